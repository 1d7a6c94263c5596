"""A fault: one realistic gateway defect (or a benign variation) and the hooks that produce it.

The reference gateway calls each hook at one point of its request path; the defaults change
nothing. Hooks receive the parsed request, so a fault can act in one region of the input only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from conformance.targets.messages import Frame, GatewayRequest, Issue, Refusal, UpstreamCall

Body = dict[str, Any]
Headers = dict[str, str]
Wire = bytes | list[bytes]


def _no_reply(req: GatewayRequest) -> Response | Refusal | None:
    return None


def _same_issues(req: GatewayRequest, issues: list[Issue]) -> list[Issue]:
    return issues


def _same_error(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    return status, envelope


def _same_image(req: GatewayRequest, index: int, png: bytes) -> bytes:
    return png


def _same_body(req: GatewayRequest, body: Body) -> Body:
    return body


def _same_frames(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    return frames


def _same_headers(req: GatewayRequest, status: int, headers: Headers) -> Headers:
    return headers


def _same_wire(req: GatewayRequest, payload: bytes, headers: Headers) -> tuple[Wire, Headers]:
    return payload, headers


def _same_targets(req: GatewayRequest, targets: list[str]) -> list[str]:
    return targets


def _same_status(req: GatewayRequest, status: int, body: Any) -> int:
    return status


def _never(req: GatewayRequest) -> bool:
    return False


def _same_relay(req: GatewayRequest, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    return chunks


def _same_call(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    return call


@dataclass(frozen=True)
class Fault:
    """A defect the suite must flag with `expected_check`, or a `benign` variation it must not.

    Hooks, in the order the gateway calls them:
    - `intercept(req)`: answer outright (a `Response`, or a `Refusal` rendered as an error
      envelope) or return None to go on.
    - `validation(req, issues)`: rewrite the schema issues (accept invalid / reject valid input).
    - `error(req, status, envelope)`: rewrite an error status and envelope.
    - `image(req, index, png)`: replace the bytes of image `index`.
    - `body(req, body)`: rewrite the JSON body of a 200.
    - `frames(req, frames)`: rewrite the SSE frames of a stream (order, content, delays).
    - `status(req, status, body)`: rewrite the status of a JSON answer (success or error).
    - `error_events(req)`: answer an error to a streamed request with a 200 stream that
      carries an `error` event instead of the status and envelope.
    - `headers(req, status, headers)`: rewrite the response headers.
    - `wire(req, payload, headers)`: rewrite the bytes of a JSON response; a list of chunks
      is sent with chunked transfer encoding.

    When the gateway forwards to an upstream (`conformance serve --upstream URL`):
    - `targets(req, deployments)`: the upstream deployments to try in order (the primary, then
      the fallbacks) until one answers;
    - `call(req, call)`: rewrite one upstream request (deployment, query, headers, body);
    - `relay(req, chunks)`: rewrite the bytes of a streamed upstream answer as relayed;
    - `buffers_stream`: hold a streamed upstream answer until it ends, then send it;
    - `falls_back_on_any_error`: try the next fallback after any upstream error, a refusal
      of the request (400, content policy) included.
    Mapped upstream errors pass through `error` (with `req.upstream_status` set).
    """

    id: str
    summary: str
    expected_check: str | None = None
    benign: bool = False
    family: str = ""
    intercept: Callable[[GatewayRequest], Response | Refusal | None] = _no_reply
    validation: Callable[[GatewayRequest, list[Issue]], list[Issue]] = _same_issues
    error: Callable[[GatewayRequest, int, Body], tuple[int, Body]] = _same_error
    image: Callable[[GatewayRequest, int, bytes], bytes] = _same_image
    body: Callable[[GatewayRequest, Body], Body] = _same_body
    frames: Callable[[GatewayRequest, list[Frame]], list[Frame]] = _same_frames
    status: Callable[[GatewayRequest, int, Any], int] = _same_status
    error_events: Callable[[GatewayRequest], bool] = _never
    headers: Callable[[GatewayRequest, int, Headers], Headers] = _same_headers
    wire: Callable[[GatewayRequest, bytes, Headers], tuple[Wire, Headers]] = _same_wire
    targets: Callable[[GatewayRequest, list[str]], list[str]] = _same_targets
    call: Callable[[GatewayRequest, UpstreamCall], UpstreamCall] = _same_call
    relay: Callable[[GatewayRequest, AsyncIterator[bytes]], AsyncIterator[bytes]] = _same_relay
    buffers_stream: bool = False
    falls_back_on_any_error: bool = False

    def __post_init__(self) -> None:
        if self.benign == (self.expected_check is not None):
            raise ValueError(f"fault {self.id}: exactly one of benign / expected_check is set")


NO_FAULT = Fault(id="none", summary="the reference behaviour", benign=True, family="reference")
