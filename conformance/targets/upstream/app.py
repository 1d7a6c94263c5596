"""The fake upstream as an ASGI app: the provider routes, the records endpoint, the faults.

Routes:
- `POST /openai/deployments/{deployment}/images/generations?api-version=V` (Azure OpenAI; key in
  `api-key`, or `Authorization: Bearer`), `POST /v1/images/generations` (OpenAI; Bearer key),
  and the loaded document's own route, answered as OpenAI's;
- `GET /_upstream/requests[?contains=TEXT]` (the records), `DELETE /_upstream/requests`;
- `GET /_upstream/health`; `GET /generated/{name}` (images answered as URLs).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.spec import JSON, SSE, Operation, Spec
from conformance.targets import inbound
from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.reference import IMAGE_ROUTE, ImageStore
from conformance.targets.shape import fit
from conformance.targets.upstream import provider_errors as errors
from conformance.targets.upstream.families import Answer, Family, family, odd_usage
from conformance.targets.upstream.markers import Marker, marker, pace
from conformance.targets.upstream.provider_errors import Flavour
from conformance.targets.upstream.records import Record, RecordStore

AZURE_ROUTE = "/openai/deployments/{rest:path}"
AZURE_PATH = re.compile(r"^/openai/deployments/([^/]+)/images/generations/?$")
OPENAI_ROUTE = "/v1/images/generations"
RECORDS_ROUTE = "/_upstream/requests"
HEALTH_ROUTE = "/_upstream/health"
DEFAULT_PACE_S = 0.05
DEFAULT_SLOW_S = 3.0
MAX_SLOW_S = 60.0
DEFAULT_RETRY_AFTER = 1
MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


@dataclass(frozen=True)
class UpstreamSettings:
    """How the fake upstream behaves: the accepted key (None: any non-empty key), the model
    family, and the pause before each stream event."""

    key: str | None = None
    model_family: str = "spec"
    pace_s: float = DEFAULT_PACE_S


class FakeUpstream:
    def __init__(self, spec: Spec, settings: UpstreamSettings) -> None:
        self.op = spec.operation
        self.route = inbound.path_pattern(self.op)
        self.settings = settings
        self.family: Family = family(settings.model_family, self.op)
        self.records = RecordStore()
        self.store = ImageStore()

    # -- provider routes ---------------------------------------------------------------------

    async def azure(self, request: Request) -> Response:
        match = AZURE_PATH.match(inbound.raw_path(request))  # an encoded / stays in the name
        if match is None:
            return await self.not_found(request)
        return await self.generate(request, "azure", unquote(match.group(1)))

    async def openai(self, request: Request) -> Response:
        return await self.generate(request, "openai", None)

    async def generate(
        self, request: Request, flavour: Flavour, deployment: str | None
    ) -> Response:
        started = time.monotonic()
        req = await inbound.read(request, self.op, {"deployment": deployment} if deployment else {})
        req.deployment = deployment
        record = self.records.add(
            req.method, req.path, req.query, req.headers, req.raw, req.body, req.parsed
        )
        model = req.body.get("model") if isinstance(req.body, dict) else None
        record.update(route=flavour, deployment=deployment, model=model)
        refusal = self.gatekeep(req, flavour)
        if refusal is not None:
            return self.answer_json(record, *refusal)
        found = marker(req.prompt, model if isinstance(model, str) else None, deployment)
        if found is not None:
            record["fault"] = found.text()
            reply = await self.fault(found, req, flavour, record)
            if reply is not None:
                return reply
        refused = self.family.refuse(req, flavour)
        if refused is not None:
            return self.answer_json(record, *refused)
        publish = self.publisher(req)
        answer: Answer = fitted(self.family.answer(req, publish), self.op)
        if found is not None and answer.body is not None:
            answer.body = odd_usage(answer.body, found.kind)
        truncate = found is not None and found.kind == "truncated-stream"
        if answer.frames is not None:
            return self.stream(
                record, answer.frames, pace(req.prompt, self.settings.pace_s), started, truncate
            )
        wire = json.dumps(answer.body).encode()
        if truncate:
            return self.answer_raw(record, 200, wire[: len(wire) // 2], JSON)
        return self.answer_raw(record, 200, wire, JSON)

    def gatekeep(self, req: GatewayRequest, flavour: Flavour) -> tuple[int, Any] | None:
        """The provider's own refusals before any work: credentials, api-version."""
        if not self.authorized(req, flavour):
            return 401, errors.unauthorized(flavour)
        if flavour == "azure" and not req.query.get("api-version"):
            return 404, errors.not_found(flavour, "api-version query parameter is missing")
        return None

    def authorized(self, req: GatewayRequest, flavour: Flavour) -> bool:
        bearer = req.headers.get("authorization", "")
        token = bearer[7:].strip() if bearer[:7].lower() == "bearer " else ""
        offered = [token]
        if flavour == "azure":
            offered.append(req.headers.get("api-key", "").strip())
        if self.settings.key is None:
            return any(offered)
        return self.settings.key in offered

    async def fault(
        self, found: Marker, req: GatewayRequest, flavour: Flavour, record: Record
    ) -> Response | None:
        """The answer a fault marker asks for, or None to go on (after a pause, for `slow`)."""
        kind = found.kind
        if kind == "429":
            retry = int(found.value) if found.value is not None else DEFAULT_RETRY_AFTER
            headers = {"retry-after": str(retry)}
            return self.answer_json(record, 429, errors.rate_limited(flavour, retry), headers)
        if kind in ("500", "503"):
            return self.answer_json(record, int(kind), errors.server_error(flavour, int(kind)))
        if kind == "401":
            return self.answer_json(record, 401, errors.unauthorized(flavour))
        if kind == "content-policy":
            return self.answer_json(record, 400, errors.content_policy(flavour, req.prompt))
        if kind == "non-json":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return self.answer_raw(record, 502, page, "text/html")
        if kind == "slow":
            seconds = found.value if found.value is not None else DEFAULT_SLOW_S
            await asyncio.sleep(min(max(seconds, 0.0), MAX_SLOW_S))
        return None  # slow (after the pause) and truncated-stream answer normally

    def publisher(self, req: GatewayRequest) -> Any:
        return lambda image: self.store.publish(req.base_url, image)

    # -- answers -------------------------------------------------------------------------------

    def answer_json(
        self, record: Record, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> Response:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            record["error_code"] = error.get("code")
        if headers and "retry-after" in headers:
            record["retry_after"] = headers["retry-after"]
        return self.answer_raw(record, status, json.dumps(body).encode(), JSON, headers)

    def answer_raw(
        self,
        record: Record,
        status: int,
        wire: bytes,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        record["status"] = status
        return Response(wire, status_code=status, media_type=media_type, headers=headers)

    def stream(
        self, record: Record, frames: list[Frame], pace_s: float, started: float, truncate: bool
    ) -> Response:
        record["status"] = 200
        timing: dict[str, Any] = {
            "planned": len(frames),
            "events": 0,
            "first_event_s": None,
            "last_event_s": None,
            "completed": False,
            "pace_s": pace_s,
        }
        record["stream"] = timing
        sent = frames[: max(1, len(frames) // 2)] if truncate else frames
        cut = frames[len(sent)].encode()[:20] if truncate and len(frames) > len(sent) else b""

        async def events() -> AsyncIterator[bytes]:
            for number, frame in enumerate(sent, 1):
                await asyncio.sleep(pace_s)
                at = round(time.monotonic() - started, 4)  # noted before the send: a reader
                timing["events"] += 1  # that got the last event finds it recorded
                timing["first_event_s"] = timing["first_event_s"] or at
                timing["last_event_s"] = at
                timing["completed"] = number == len(frames)
                yield frame.encode()
            if cut:
                yield cut

        headers = {"cache-control": "no-cache"}
        return StreamingResponse(events(), status_code=200, media_type=SSE, headers=headers)

    # -- records and images --------------------------------------------------------------------

    async def list_records(self, request: Request) -> Response:
        contains = request.query_params.get("contains") or None
        return JSONResponse({"requests": self.records.list(contains)})

    async def clear_records(self, request: Request) -> Response:
        return JSONResponse({"cleared": self.records.clear()})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "model_family": self.family.name})

    async def image(self, request: Request) -> Response:
        image = self.store.get(request.path_params["name"])
        if image is None:
            return JSONResponse(errors.not_found("openai", "image"), status_code=404)
        kind = next((t for magic, t in MAGIC.items() if image.startswith(magic)), "image/png")
        return Response(image, media_type=kind)

    async def not_found(self, request: Request) -> Response:
        """The document's own route (when it is neither provider route) is served as OpenAI's;
        anything else is a 404."""
        params = inbound.path_params(self.op, self.route, inbound.raw_path(request))
        if request.method == "POST" and params is not None:
            return await self.generate(request, "openai", next(iter(params.values()), None))
        return JSONResponse(errors.not_found("azure", request.url.path), status_code=404)


def fitted(answer: Answer, op: Operation) -> Answer:
    """The answer in the document's response shape (`conformance.targets.shape`)."""
    if answer.body is not None:
        answer.body = fit(answer.body, op.response_schema(200, JSON))
    for frame in answer.frames or []:
        frame.data = fit(frame.data, op.response_schema(200, SSE))
    return answer


def create_upstream_app(spec: Spec, settings: UpstreamSettings | None = None) -> Starlette:
    """The fake upstream for `spec`'s operation as an ASGI app (`app.state.upstream` holds
    its records)."""
    upstream = FakeUpstream(spec, settings or UpstreamSettings())
    routes = [
        Route(AZURE_ROUTE, upstream.azure, methods=["POST"]),
        Route(OPENAI_ROUTE, upstream.openai, methods=["POST"]),
        Route(RECORDS_ROUTE, upstream.list_records, methods=["GET"]),
        Route(RECORDS_ROUTE, upstream.clear_records, methods=["DELETE"]),
        Route(HEALTH_ROUTE, upstream.health, methods=["GET"]),
        Route(IMAGE_ROUTE + "/{name}", upstream.image, methods=["GET", "HEAD"]),
        Route("/{path:path}", upstream.not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.upstream = upstream
    return app
