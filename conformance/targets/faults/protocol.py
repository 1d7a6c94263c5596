"""Defects of the HTTP exchange itself: broken answers, 5xx, undeclared statuses, media types."""

from __future__ import annotations

from conformance.targets.faults.edits import failed_on, non_json_body
from conformance.targets.faults.model import Body, Fault, Headers, Wire
from conformance.targets.messages import GatewayRequest, Refusal

PROXY_BUFFER_BYTES = 4096
BMP_MAX = 0xFFFF


def _cut_large_b64(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    if req.response_format != "b64_json" or req.issues or len(payload) <= PROXY_BUFFER_BYTES:
        return payload, headers
    return payload[:PROXY_BUFFER_BYTES], {**headers, "content-length": str(len(payload))}


def _stale_encoding(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    if req.response_format != "url" or req.issues:
        return payload, headers
    return payload, {**headers, "content-encoding": "gzip"}


def _emoji_500(req: GatewayRequest) -> Refusal | None:
    if all(ord(char) <= BMP_MAX for char in req.prompt):
        return None
    return Refusal(500, "internal error: failed to encode prompt", "prompt", "internal_error")


def _enum_422(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if status != 400 or not failed_on(req, "enum"):
        return status, envelope
    return 422, {**envelope, "status_code": 422}


def _empty_prompt_422(req: GatewayRequest) -> Refusal | None:
    if isinstance(req.body, dict) and req.body.get("prompt") == "":
        return Refusal(422, "prompt must not be empty", "prompt", "invalid_value")
    return None


def _created_201(req: GatewayRequest, status: int, body: Body) -> int:
    many_urls = req.response_format == "url" and req.n > 1 and not req.stream
    return 201 if status == 200 and many_urls else status


def _plain_text_errors(req: GatewayRequest, status: int, headers: Headers) -> Headers:
    if status == 400 and non_json_body(req):
        return {**headers, "content-type": "text/plain"}
    return headers


def _double_write(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    if failed_on(req, "required"):
        return payload + b"\n" + payload, headers
    return payload, headers


FAULTS = [
    Fault(
        id="truncated-large-b64-body",
        summary="a proxy buffer cuts b64_json bodies after 4 KiB while Content-Length promises "
        "the whole body, so the connection closes mid-response",
        expected_check="PROTO-RESPONDS",
        wire=_cut_large_b64,
    ),
    Fault(
        id="stale-gzip-content-encoding",
        summary="url responses keep the upstream's Content-Encoding: gzip after the body was "
        "decompressed, so no client can decode them",
        expected_check="PROTO-RESPONDS",
        wire=_stale_encoding,
    ),
    Fault(
        id="500-on-emoji-prompt",
        summary="prompts with emoji (characters beyond the BMP) crash a UCS-2 encoder: 500",
        expected_check="PROTO-NO-5XX",
        intercept=_emoji_500,
    ),
    Fault(
        id="422-for-enum-violations",
        summary="enum violations (size, quality, style, response_format) are answered 422, "
        "a status the operation does not declare",
        expected_check="PROTO-STATUS-DOCUMENTED",
        error=_enum_422,
    ),
    Fault(
        id="422-for-empty-prompt",
        summary="an empty prompt is refused with 422 (FastAPI's default), not the documented "
        "400 the rulings allow",
        expected_check="PROTO-STATUS-DECLARED",
        intercept=_empty_prompt_422,
    ),
    Fault(
        id="201-for-url-batches",
        summary="a request for several images as URLs is answered 201 Created, a success "
        "status the operation does not document",
        expected_check="PROTO-STATUS-DOCUMENTED",
        status=_created_201,
    ),
    Fault(
        id="plain-text-parse-errors",
        summary="errors for bodies that are not JSON are labelled text/plain",
        expected_check="PROTO-CONTENT-TYPE",
        headers=_plain_text_errors,
    ),
    Fault(
        id="double-written-error-body",
        summary="a missing required field makes the handler write its error envelope twice, "
        "so the body is two JSON documents",
        expected_check="PROTO-BODY-PARSES",
        wire=_double_write,
    ),
]
