"""Defects of streamed answers: media type, event schema, sequence, count, ending, content."""

from __future__ import annotations

import base64

from conformance.targets.faults.edits import completed, events, partials
from conformance.targets.faults.model import Fault, Headers
from conformance.targets.images import encoding
from conformance.targets.messages import Frame, GatewayRequest, Issue
from conformance.targets.payload import PARTIAL, usage
from conformance.targets.png import parse_size, render

HEARTBEAT_S = 0.25
HEARTBEATS = 2400
PREVIEW_SIZE = "256x256"
DEFAULT_SIZE = "1024x1024"


def _text_plain(req: GatewayRequest, status: int, headers: Headers) -> Headers:
    if req.stream and status == 200:
        return {**headers, "content-type": "text/plain"}
    return headers


def _null_partial_size(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in partials(frames):
        event["size"] = None
    return frames


def _repeat_sequence(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in completed(frames):
        event["sequence_number"] -= 1
    return frames


def _usage_chunk(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    last = events(frames)[-1]["sequence_number"]
    tail = {"sequence_number": last + 1, "usage": usage(req, req.n)}
    return [*frames, Frame(data=tail)]


def _never_closes(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.n < 2:
        return frames
    beats = [Frame(comment="keep-alive", delay_s=HEARTBEAT_S) for _ in range(HEARTBEATS)]
    return [*frames, *beats]


def _square_stream(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    square = base64.b64encode(render(1024, 1024, encoding(req))).decode()
    for event in completed(frames):
        event["b64_json"] = square
    return frames


def _stream_total_without_input(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in completed(frames):
        event["usage"]["total_tokens"] = event["usage"]["output_tokens"]
    return frames


def _created_at_ms(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event["created_at"] = event["created_at"] * 1000
    return frames


def _cut_completed(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in completed(frames):
        data = base64.b64decode(event["b64_json"])
        event["b64_json"] = base64.b64encode(data[: len(data) * 2 // 3]).decode()
    return frames


def _small_partials(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.size == PREVIEW_SIZE:
        return frames
    preview = base64.b64encode(render(*parse_size(PREVIEW_SIZE), encoding(req))).decode()
    for event in partials(frames):
        event["b64_json"] = preview
    return frames


def _webp_completed(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.sent("output_format"):
        return frames
    webp = base64.b64encode(render(*parse_size(req.size), "WEBP")).decode()
    for event in completed(frames):
        event["b64_json"] = webp
    return frames


def _transparent_events(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if not req.sent("background"):
        for event in events(frames):
            event["background"] = "transparent"
    return frames


def _default_size_echo(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event["size"] = DEFAULT_SIZE
    return frames


def _partial_event_names(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for frame in frames:
        if frame.payload is not None:
            frame.event = PARTIAL
    return frames


def _partials_from_one(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.sent("partial_images"):
        for event in partials(frames):
            event["partial_image_index"] += 1
    return frames


def _stream_on_accept_only(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    if req.stream and "text/event-stream" not in req.headers.get("accept", ""):
        req.body["stream"] = False  # negotiates on Accept: a single JSON body instead
    return issues


FAULTS = [
    Fault(
        id="stream-labelled-text-plain",
        summary="streams are sent as text/plain instead of text/event-stream",
        expected_check="SSE-CONTENT-TYPE",
        headers=_text_plain,
    ),
    Fault(
        id="partial-event-size-null",
        summary="partial_image events carry size: null",
        expected_check="SSE-EVENT-SCHEMA",
        frames=_null_partial_size,
    ),
    Fault(
        id="completed-repeats-sequence-number",
        summary="each completed event repeats the sequence_number of its partial event",
        expected_check="SSE-SEQUENCE",
        frames=_repeat_sequence,
    ),
    Fault(
        id="trailing-usage-chunk",
        summary="a usage-only event follows the last completed event",
        expected_check="SSE-NOTHING-AFTER-END",
        frames=_usage_chunk,
    ),
    Fault(
        id="stream-never-closes",
        summary="for n >= 2 the fan-in never closes: after the last completed event the stream "
        "stays open sending keep-alive comments",
        expected_check="SSE-TERMINATES",
        frames=_never_closes,
    ),
    Fault(
        id="stream-ignores-size",
        summary="completed stream images are always 1024x1024 whatever size was asked",
        expected_check="SSE-IMAGE-SIZE",
        frames=_square_stream,
    ),
    Fault(
        id="stream-usage-total-excludes-input",
        summary="usage on completed events has total_tokens = output_tokens",
        expected_check="SSE-USAGE-SUM",
        frames=_stream_total_without_input,
    ),
    Fault(
        id="stream-created-at-milliseconds",
        summary="created_at in stream events is in milliseconds",
        expected_check="SSE-CREATED-AT-SECONDS",
        frames=_created_at_ms,
    ),
    Fault(
        id="stream-completed-image-truncated",
        summary="completed events carry the image cut after two thirds of its bytes",
        expected_check="SSE-IMAGE-WHOLE",
        frames=_cut_completed,
    ),
    Fault(
        id="partial-images-256-previews",
        summary="partial events carry 256x256 previews whatever size was asked",
        expected_check="SSE-PARTIAL-IMAGE",
        frames=_small_partials,
    ),
    Fault(
        id="stream-webp-reported-png",
        summary="completed events carry WebP images while output_format says png",
        expected_check="SSE-OUTPUT-FORMAT",
        frames=_webp_completed,
    ),
    Fault(
        id="stream-transparent-reported-for-opaque",
        summary="stream events report background transparent for opaque images",
        expected_check="SSE-BACKGROUND-ALPHA",
        frames=_transparent_events,
    ),
    Fault(
        id="stream-echoes-default-size",
        summary="stream events report size 1024x1024 whatever size was asked and delivered",
        expected_check="SSE-ECHO",
        frames=_default_size_echo,
    ),
    Fault(
        id="sse-event-lines-all-partial",
        summary="every SSE event: line says image_generation.partial_image, completed ones too",
        expected_check="SSE-EVENT-NAME",
        frames=_partial_event_names,
    ),
    Fault(
        id="stream-needs-accept",
        summary="stream: true is honoured only when Accept names text/event-stream; with "
        "Accept: */* or none the images come as one JSON body",
        expected_check="SSE-CONTENT-TYPE",
        validation=_stream_on_accept_only,
    ),
    Fault(
        id="partial-image-index-from-one",
        summary="with partial_images, partial events count partial_image_index from 1",
        expected_check="SSE-EXTENSIONS-HONOURED",
        frames=_partials_from_one,
    ),
]
