"""Forwarding: the reference gateway in front of an upstream provider (Azure OpenAI style).

What a conforming gateway does with the upstream (rulings, "Gateways and their upstream"): the
client's body goes on unchanged but for the gateway-only `fallbacks`; the deployment in the
path selects the upstream deployment; the api-version goes on; the gateway's own key replaces
the client's credential; an upstream 4xx keeps its status and the provider's code, a 429 keeps
Retry-After, a 5xx or an unreachable upstream becomes a 500 envelope; fallbacks are tried in
order after a 429/5xx/unreachable primary; a stream is relayed as it arrives.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx
from starlette.responses import Response, StreamingResponse

from conformance.model import fallback_names
from conformance.spec import JSON, SSE
from conformance.targets.faults.model import Fault
from conformance.targets.messages import GatewayRequest, UpstreamCall

DEFAULT_API_VERSION = "2024-02-01"
UPSTREAM_KEY = "conformance-upstream-key"
GATEWAY_ONLY_FIELDS = ("fallbacks",)
DEFAULT_DEPLOYMENT = "dall-e-3"
"""Where a request that names no model goes (a document whose `model` is optional or
nullable, on a route without a deployment), as a gateway routes to its default model."""
AZURE_PATH = "/openai/deployments/{deployment}/images/generations"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_BODY_BYTES = 128 * 1024 * 1024
KEPT_HEADERS = ("retry-after",)


class Gateway(Protocol):
    """What the forwarder needs of the gateway: its fault and its two ways to answer."""

    fault: Fault

    def error(
        self,
        req: GatewayRequest,
        status: int,
        message: str,
        param: str,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> Response: ...

    def json(
        self, req: GatewayRequest, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> Response: ...

    def fitted_body(self, body: Any) -> Any: ...


Failure = httpx.Response | httpx.HTTPError | None


class Forwarder:
    """Sends a validated request upstream (with fallbacks) and answers with what came back."""

    def __init__(
        self,
        base_url: str,
        key: str = UPSTREAM_KEY,
        client: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self._client = client or self._new_client
        self._tls: ssl.SSLContext | None = None

    def _new_client(self) -> httpx.AsyncClient:
        """A client per forwarded request (each closes with its answer), all sharing one TLS
        context: building one loads the CA bundle, which cost more than the request."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return httpx.AsyncClient(timeout=TIMEOUT, trust_env=False, verify=self._tls)

    async def forward(self, gateway: Gateway, req: GatewayRequest) -> Response:
        fault = gateway.fault
        body = {k: v for k, v in req.body.items() if k not in GATEWAY_ONLY_FIELDS}
        primary = req.deployment or req.model or DEFAULT_DEPLOYMENT
        targets = fault.targets(req, [primary, *_fallbacks(req)])
        client = self._client()
        failure: Failure = None
        relayed = False
        try:
            for index, target in enumerate(targets):
                call = fault.call(req, self.call(req, body, target, fallback=index > 0))
                try:
                    response = await client.send(self.request(client, call), stream=True)
                except httpx.HTTPError as exc:
                    failure = exc
                    continue
                if response.status_code < 300:
                    relayed = True  # the relay closes the client once the answer is sent
                    return await self.relay(gateway, req, response, client)
                await response.aread()
                await response.aclose()
                failure = response
                if not (_worth_a_fallback(response.status_code) or fault.falls_back_on_any_error):
                    break
        finally:
            if not relayed:
                await client.aclose()
        return self.mapped_error(gateway, req, failure)

    def call(
        self, req: GatewayRequest, body: dict[str, Any], target: str, fallback: bool
    ) -> UpstreamCall:
        sent = dict(body)
        if fallback:
            sent["model"] = target  # a fallback names the model (and deployment) to try
        version = req.query.get("api-version") or DEFAULT_API_VERSION
        headers = {"api-key": self.key, "content-type": JSON, "accept": f"{JSON}, {SSE}"}
        return UpstreamCall(
            deployment=target, query={"api-version": version}, headers=headers, body=sent
        )

    def request(self, client: httpx.AsyncClient, call: UpstreamCall) -> httpx.Request:
        from urllib.parse import quote

        path = AZURE_PATH.format(deployment=quote(call.deployment, safe=""))
        return client.build_request(
            "POST",
            self.base_url + path,
            params=call.query,
            headers=call.headers,
            content=json.dumps(call.body).encode(),
        )

    async def relay(
        self,
        gateway: Gateway,
        req: GatewayRequest,
        response: httpx.Response,
        client: httpx.AsyncClient,
    ) -> Response:
        """The upstream's 200 to the client: a stream event by event, a JSON body as read."""
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == SSE:
            headers = gateway.fault.headers(
                req, 200, {"content-type": SSE, "cache-control": "no-cache"}
            )
            chunks = gateway.fault.relay(
                req, _relayed(response, client, gateway.fault.buffers_stream)
            )
            return StreamingResponse(chunks, status_code=200, headers=headers)
        try:
            raw = await _read(response)
        except httpx.HTTPError as exc:
            return self.mapped_error(gateway, req, exc)
        finally:
            await response.aclose()
            await client.aclose()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            req.upstream_status = response.status_code
            message = f"upstream answered {response.status_code} with a body that is not JSON"
            return gateway.error(req, 500, message, "upstream", "upstream_invalid_response")
        if not isinstance(body, dict):
            body = {"data": []}
        return gateway.json(req, 200, gateway.fault.body(req, gateway.fitted_body(body)))

    def mapped_error(self, gateway: Gateway, req: GatewayRequest, failure: Failure) -> Response:
        """The client's answer when no upstream call succeeded."""
        if not isinstance(failure, httpx.Response):
            kind = failure.__class__.__name__ if failure is not None else "no upstream call"
            return gateway.error(
                req, 500, f"upstream unreachable ({kind})", "upstream", "upstream_unreachable"
            )
        status = failure.status_code
        req.upstream_status = status
        error = _provider_error(failure)
        code = error.get("code")
        code = code if isinstance(code, str) and code else "upstream_error"
        said = error.get("message")
        message = f"upstream answered {status}" + (f": {said}" if isinstance(said, str) else "")
        param = error.get("param")
        param = param if isinstance(param, str) and param else "upstream"
        if 400 <= status < 500:
            kept = {k: failure.headers[k] for k in KEPT_HEADERS if k in failure.headers}
            return gateway.error(req, status, message, param, code, kept)
        return gateway.error(req, 500, message, param, "upstream_error")


def _fallbacks(req: GatewayRequest) -> list[str]:
    return fallback_names(req.body.get("fallbacks") if isinstance(req.body, dict) else None)


def _worth_a_fallback(status: int) -> bool:
    """A 429 or 5xx may go better elsewhere; any other 4xx is the client's to hear."""
    return status == 429 or status >= 500


def _provider_error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


async def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise httpx.ReadError("upstream body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _relayed(
    response: httpx.Response, client: httpx.AsyncClient, buffered: bool
) -> AsyncIterator[bytes]:
    """The upstream stream's bytes as they arrive (or, `buffered`, all at once at its end)."""
    held: list[bytes] = []
    try:
        async for chunk in response.aiter_raw():
            if buffered:
                held.append(chunk)
            else:
                yield chunk
        if held:
            yield b"".join(held)
    except httpx.HTTPError:
        return  # the upstream broke off: so does the relayed stream
    finally:
        await response.aclose()
        await client.aclose()
