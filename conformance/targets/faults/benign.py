"""Variations the spec allows: the suite must not flag any of them."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from conformance.targets.faults.edits import events, items, partials
from conformance.targets.faults.model import Body, Fault, Headers, Wire
from conformance.targets.messages import Frame, GatewayRequest, Refusal
from conformance.targets.payload import usage
from conformance.targets.png import parse_size, render, size_text

CHUNK_BYTES = 1024
PACING_S = 0.02
SIGNATURE = "?se=2099-01-01T00%3A00%3A00Z&sp=r&sv=2024-08-04&sig=c2lnbmF0dXJl"
AUTO_CHOICE = "1536x1024"
EXTRA = {"x_request_id": "req-0001", "system_fingerprint": "fp_ref"}


def _extra_body(req: GatewayRequest, body: Body) -> Body:
    for item in items(body):
        item["content_filter_results"] = {"violence": {"filtered": False}}
    bifrost = {"provider": "azure", "model_requested": req.model, "latency_ms": 3}
    return {**body, **EXTRA, "background": "opaque", "extra_fields": bifrost}


def _extra_error(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    envelope["error"]["inner_error"] = {"code": "ResponsibleAIPolicyViolation"}
    envelope["extra_fields"]["latency_ms"] = 3
    return status, {**envelope, **EXTRA}


def _extra_events(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event.update(EXTRA)
    return frames


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def _reverse_body(req: GatewayRequest, body: Body) -> Body:
    return dict(_reversed(body))


def _reverse_error(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    return status, dict(_reversed(envelope))


def _reverse_events(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for frame in frames:
        if frame.payload is not None:
            frame.data = _reversed(frame.payload)
    return frames


def _chunked(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    chunks = [payload[i : i + CHUNK_BYTES] for i in range(0, len(payload), CHUNK_BYTES)]
    return chunks or [b""], headers


def _gzip(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    return gzip.compress(payload), {
        **headers,
        "content-encoding": "gzip",
        "vary": "accept-encoding",
    }


def _framing_extras(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    # Comments come before the first id: once an id is set, the openai SDK's parser turns a
    # comment-only block into an event with empty data (faults.sdk has that case).
    out = [Frame(comment="stream open"), Frame(comment="heartbeat")]
    for number, frame in enumerate(frames):
        frame.id = str(number)
        frame.retry = 3000 if number == 0 else None
        out.append(frame)
    return [*out, Frame(data="[DONE]")]


def _bare_multiline_data(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for frame in frames:
        frame.event = None
        if frame.payload is not None:
            frame.data = json.dumps(frame.payload, indent=1)
    return frames


def _signed_urls(req: GatewayRequest, body: Body) -> Body:
    for item in items(body):
        if "url" in item:
            item["url"] += SIGNATURE
    return body


def _slow_pacing(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for frame in frames:
        frame.delay_s = PACING_S
    return frames


def _charset(req: GatewayRequest, status: int, headers: Headers) -> Headers:
    return {**headers, "content-type": headers["content-type"] + "; charset=utf-8"}


def _reject_empty_prompt(req: GatewayRequest) -> Refusal | None:
    if isinstance(req.body, dict) and isinstance(req.body.get("prompt"), str) and not req.prompt:
        return Refusal(400, "prompt must not be empty", "prompt", "invalid_value")
    return None


def _reject_stream_format(req: GatewayRequest) -> Refusal | None:
    if req.stream and req.sent("response_format"):
        message = "response_format is not supported for streaming requests"
        return Refusal(400, message, "response_format", "unsupported_parameter")
    return None


def _auto_landscape(req: GatewayRequest, index: int, png: bytes) -> bytes:
    return render(*parse_size(AUTO_CHOICE)) if req.size == "auto" else png


def _auto_landscape_body(req: GatewayRequest, body: Body) -> Body:
    if req.size == "auto":
        body["size"] = size_text(*parse_size(AUTO_CHOICE))
        body["usage"] = usage(req, len(body["data"]))
    return body


def _auto_landscape_events(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.size == "auto":
        for event in events(frames):
            event["size"] = AUTO_CHOICE
    return frames


def _partial_chunks(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in partials(frames):
        data = base64.b64decode(event["b64_json"])
        event["b64_json"] = base64.b64encode(data[: len(data) // 2]).decode()
    return frames


def _jpeg_default(req: GatewayRequest, index: int, png: bytes) -> bytes:
    return png if req.sent("output_format") else render(*parse_size(req.size), "JPEG")


def _jpeg_default_body(req: GatewayRequest, body: Body) -> Body:
    if not req.sent("output_format"):
        body["output_format"] = "jpeg"
    return body


def _jpeg_default_events(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if not req.sent("output_format"):
        for event in events(frames):
            event["output_format"] = "jpeg"
    return frames


def _message_event_lines(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for frame in frames:
        if frame.payload is not None:
            frame.event = "message"
    return frames


def _param_pointer(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    param = envelope["error"].get("param")
    if req.issues and isinstance(param, str) and param != "body":
        envelope["error"]["param"] = "/" + param.replace(".", "/")
    return status, envelope


FAULTS = [
    Fault(
        id="benign-extra-fields",
        summary="unknown extra fields in bodies, data items, stream events and envelopes "
        "(Bifrost's extra_fields in 200 bodies too, naming the model sent)",
        benign=True,
        body=_extra_body,
        error=_extra_error,
        frames=_extra_events,
    ),
    Fault(
        id="benign-key-order",
        summary="every JSON object has its keys in reverse order",
        benign=True,
        body=_reverse_body,
        error=_reverse_error,
        frames=_reverse_events,
    ),
    Fault(
        id="benign-chunked-transfer",
        summary="JSON bodies sent with chunked transfer encoding in 1 KiB chunks",
        benign=True,
        wire=_chunked,
    ),
    Fault(
        id="benign-gzip",
        summary="JSON bodies gzip-compressed with Content-Encoding: gzip",
        benign=True,
        wire=_gzip,
    ),
    Fault(
        id="benign-sse-framing",
        summary="SSE comment lines, id: and retry: lines, and a final data: [DONE]",
        benign=True,
        frames=_framing_extras,
    ),
    Fault(
        id="benign-sse-bare-multiline-data",
        summary="SSE events without event: lines, their JSON spread over several data: lines",
        benign=True,
        frames=_bare_multiline_data,
    ),
    Fault(
        id="benign-signed-urls",
        summary="image URLs carry a signed query string (SAS token)",
        benign=True,
        body=_signed_urls,
    ),
    Fault(
        id="benign-slow-sse",
        summary="SSE events paced 20 ms apart",
        benign=True,
        frames=_slow_pacing,
    ),
    Fault(
        id="benign-charset",
        summary="every Content-Type carries ; charset=utf-8",
        benign=True,
        headers=_charset,
    ),
    Fault(
        id="benign-empty-prompt-rejected",
        summary="an empty prompt is rejected with 400 (the ruling allows it)",
        benign=True,
        intercept=_reject_empty_prompt,
    ),
    Fault(
        id="benign-stream-rejects-response-format",
        summary="response_format with stream: true is rejected with 400 (the ruling allows it)",
        benign=True,
        intercept=_reject_stream_format,
    ),
    Fault(
        id="benign-auto-size-landscape",
        summary="size auto produces 1536x1024 images (a listed size) and echoes it",
        benign=True,
        image=_auto_landscape,
        body=_auto_landscape_body,
        frames=_auto_landscape_events,
    ),
    Fault(
        id="benign-partial-byte-chunks",
        summary="partial events carry the first half of the image's bytes (a chunk of image data)",
        benign=True,
        frames=_partial_chunks,
    ),
    Fault(
        id="benign-jpeg-by-default",
        summary="without output_format, images are JPEG and reported as output_format jpeg",
        benign=True,
        image=_jpeg_default,
        body=_jpeg_default_body,
        frames=_jpeg_default_events,
    ),
    Fault(
        id="benign-sse-event-message",
        summary="every SSE event carries the default name (event: message)",
        benign=True,
        frames=_message_event_lines,
    ),
    Fault(
        id="benign-error-param-pointer",
        summary="error.param is a JSON pointer (/n, /fallbacks/0) instead of a field name",
        benign=True,
        error=_param_pointer,
    ),
]
