"""The reference gateway: a small, correct implementation of the spec's image operation.

Every request is validated against the spec by openapi-core; valid ones get real PNGs of the
requested size, as base64 or as URLs this app also serves, or as an SSE stream. A `Fault`
changes the behaviour at well-defined points (see `conformance.targets.faults.model.Fault`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from conformance.errors import SpecError
from conformance.spec import JSON, SSE, Operation, Spec
from conformance.targets import images, inbound, payload
from conformance.targets.envelope import envelope
from conformance.targets.faults.model import NO_FAULT, Fault
from conformance.targets.forward import Forwarder
from conformance.targets.messages import Frame, GatewayRequest, Refusal
from conformance.targets.shape import fit
from conformance.targets.validation import SpecRequestValidator

IMAGE_ROUTE = "/generated"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
STORED_IMAGES = 4096


class ImageStore:
    """Images published as URLs, kept in memory (oldest dropped first)."""

    def __init__(self, capacity: int = STORED_IMAGES) -> None:
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._capacity = capacity

    def publish(self, base_url: str, image: bytes) -> str:
        name = f"{uuid.uuid4().hex}.png"
        self._images[name] = image
        while len(self._images) > self._capacity:
            self._images.popitem(last=False)
        return f"{base_url}{IMAGE_ROUTE}/{name}"

    def get(self, name: str) -> bytes | None:
        return self._images.get(name)


@dataclass(frozen=True)
class Pace:
    """A slow provider: `latency_s` before each generated answer, and for streams
    `image_delay_s` more before each image's first event."""

    latency_s: float = 0.0
    image_delay_s: float = 0.0

    def per_image(self, frames: list[Frame]) -> list[Frame]:
        if self.image_delay_s:
            for frame in frames:
                if frame.event == payload.PARTIAL:
                    frame.delay_s += self.image_delay_s
        return frames


def require_servable(op: Operation, source: str) -> None:
    """Raise `SpecError` when the reference gateway cannot serve what the document describes:
    it reads JSON requests and answers a JSON body or an event stream."""
    if op.request_media_type != JSON:
        reason = f"takes {op.request_media_type} requests (it reads {JSON})"
    elif not {JSON, SSE} & set(op.media_types(200)):
        declared = ", ".join(op.media_types(200)) or "no content"
        reason = f"answers 200 with {declared} (it answers {JSON} or {SSE})"
    else:
        return
    raise SpecError(
        f"the embedded reference gateway cannot serve {op.method.upper()} {op.path} of "
        f"{source}: the operation {reason}; point --base-url at a gateway"
    )


class ReferenceGateway:
    """Request handling for one spec operation, with an optional fault."""

    def __init__(
        self,
        spec: Spec,
        fault: Fault | None = None,
        forwarder: Forwarder | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.op = spec.operation
        require_servable(self.op, spec.source)
        self.fault = fault or NO_FAULT
        self.forwarder = forwarder
        self.pace = pace or Pace()
        self.pattern = inbound.path_pattern(self.op)
        self.validator = SpecRequestValidator(spec)
        self.store = ImageStore()

    async def dispatch(self, request: Request) -> Response:
        params = inbound.path_params(self.op, self.pattern, inbound.raw_path(request))
        req = await inbound.read(request, self.op, params or {})
        if params is None:
            return self.error(req, 404, f"no route for {request.url.path}", "path", "not_found")
        if request.method != self.op.method.upper():
            message = f"method {request.method} is not allowed; use {self.op.method.upper()}"
            return self.error(req, 405, message, "method", "method_not_allowed")
        reply = self.fault.intercept(req)
        if isinstance(reply, Refusal):
            return self.error(req, reply.status, reply.message, reply.param, reply.code)
        if reply is not None:
            return reply
        req.issues = self.fault.validation(req, self.validator.issues(req, params))
        if req.issues:
            first = req.issues[0]
            return self.error(req, 400, first.message, first.param, first.code)
        if self.forwarder is not None:
            return await self.forwarder.forward(self, req)
        if self.pace.latency_s:
            await asyncio.sleep(self.pace.latency_s)  # a provider generating the images
        return self.generate(req)

    async def image(self, request: Request) -> Response:
        image = self.store.get(request.path_params["name"])
        if image is None:
            return await self.dispatch(request)
        return Response(image, media_type=images.media_type(image))

    def generate(self, req: GatewayRequest) -> Response:
        pixels = images.requested_image(req)
        made = [self.fault.image(req, index, pixels) for index in range(req.n)]
        if req.stream:
            frames = self.fault.frames(req, self.fitted(payload.stream_frames(req, made)))
            return self.stream(req, self.pace.per_image(frames))
        body = payload.json_body(req, made, lambda png: self.store.publish(req.base_url, png))
        return self.json(req, 200, self.fault.body(req, self.fitted_body(body)))

    def fitted_body(self, body: Any) -> Any:
        """A 200 JSON body in the document's shape (`conformance.targets.shape`)."""
        return fit(body, self.op.response_schema(200, JSON))

    def fitted(self, frames: list[Frame]) -> list[Frame]:
        """Stream frames whose data is in the document's event shape."""
        schema = self.op.response_schema(200, SSE)
        for frame in frames:
            frame.data = fit(frame.data, schema)
        return frames

    def error(
        self,
        req: GatewayRequest,
        status: int,
        message: str,
        param: str,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        status, body = self.fault.error(req, status, envelope(req, status, message, param, code))
        if req.stream and self.fault.error_events(req):
            return self.stream(req, [Frame(data={**body, "type": "error"}, event="error")])
        return self.json(req, status, body, headers)

    def json(
        self, req: GatewayRequest, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> Response:
        status = self.fault.status(req, status, body)
        headers = self.fault.headers(req, status, {"content-type": JSON, **(headers or {})})
        wire, headers = self.fault.wire(req, json.dumps(body).encode(), headers)
        if isinstance(wire, list):
            return StreamingResponse(_chunks(wire), status_code=status, headers=headers)
        return Response(wire, status_code=status, headers=headers)

    def stream(self, req: GatewayRequest, frames: list[Frame]) -> Response:
        headers = self.fault.headers(req, 200, {"content-type": SSE, "cache-control": "no-cache"})
        return StreamingResponse(_paced(frames), status_code=200, headers=headers)


async def _paced(frames: list[Frame]) -> AsyncIterator[bytes]:
    for frame in frames:
        if frame.delay_s:
            await asyncio.sleep(frame.delay_s)
        yield frame.encode()


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def create_app(
    spec: Spec, fault: Fault | None = None, upstream: str | None = None, pace: Pace | None = None
) -> Starlette:
    """The reference gateway for `spec.operation` as an ASGI app, optionally with `fault`;
    with `upstream` (a base URL) it forwards valid requests there instead of drawing; `pace`
    imitates a slow provider."""
    forwarder = Forwarder(upstream) if upstream else None
    gateway = ReferenceGateway(spec, fault, forwarder, pace)
    routes = [
        Route(IMAGE_ROUTE + "/{name}", gateway.image, methods=["GET", "HEAD"]),
        Route("/{path:path}", gateway.dispatch, methods=ALL_METHODS),
    ]
    app = Starlette(routes=routes)
    app.state.gateway = gateway
    return app
