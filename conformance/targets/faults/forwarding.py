"""Defects of a gateway towards its upstream (the reference gateway forwarding; the embedded
pair): what it sends upstream, how it maps upstream failures, fallbacks, streams."""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse, Response

from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import GatewayRequest, UpstreamCall

PINNED_API_VERSION = "2023-06-01-preview"
WRAPPED = ("user", "style")
DROPPED = ("user", "style")
RETRIES = 3
PROMPT_LIMIT = 1000
NOT_PASSED = ("host", "content-length", "api-key", "authorization", "connection")
"""Headers of the client a gateway does not pass on: its credential and hop-by-hop ones."""


def _body(call: UpstreamCall) -> dict[str, Any]:
    return dict(call.body) if isinstance(call.body, dict) else {}


def _drop_fields(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = {k: v for k, v in _body(call).items() if k not in DROPPED}
    return replace(call, body=body)


def _known_fields_only(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    known = req.op.properties
    return replace(call, body={k: v for k, v in _body(call).items() if k in known})


def _wrap_fields(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = _body(call)
    extra = {name: body.pop(name) for name in WRAPPED if name in body}
    return replace(call, body={**body, "extra_body": extra} if extra else body)


def _tidy_prompt(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = _body(call)
    if isinstance(body.get("prompt"), str):
        body["prompt"] = " ".join(body["prompt"].split())
    return replace(call, body=body)


def _truncated_prompt(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = _body(call)
    if isinstance(body.get("prompt"), str):
        body["prompt"] = body["prompt"][:PROMPT_LIMIT]
    return replace(call, body=body)


def _escaped_prompt(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = _body(call)
    if isinstance(body.get("prompt"), str):
        text = body["prompt"]
        body["prompt"] = "".join(c if c.isascii() else json.dumps(c)[1:-1] for c in text)
    return replace(call, body=body)


def _deployment_as_model(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    return replace(call, body={**_body(call), "model": call.deployment})


def _model_as_deployment(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    model = _body(call).get("model")
    return replace(call, deployment=model) if isinstance(model, str) else call


def _pinned_api_version(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    return replace(call, query={**call.query, "api-version": PINNED_API_VERSION})


def _client_key_forwarded(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    key = req.headers.get("api-key")
    return replace(call, headers={**call.headers, "api-key": key}) if key else call


def _key_as_user(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    body = _body(call)
    key = req.headers.get("api-key")
    if not key or "user" in body:
        return call
    return replace(call, body={**body, "user": base64.b64encode(key.encode()).decode()})


def _bearer_upstream(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    headers = {k: v for k, v in call.headers.items() if k != "api-key"}
    headers["authorization"] = f"Bearer {call.headers.get('api-key', '')}"
    return replace(call, headers=headers)


def _client_headers_forwarded(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    passed = {k: v for k, v in req.headers.items() if k.lower() not in NOT_PASSED}
    return replace(call, headers={**passed, **call.headers})


_CACHE: OrderedDict[str, Body] = OrderedDict()
CACHE_ENTRIES = 64


def _cache_key(req: GatewayRequest) -> str:
    return json.dumps(req.body, sort_keys=True)  # the body only: the deployment is forgotten


def _cached(req: GatewayRequest) -> Response | None:
    found = _CACHE.get(_cache_key(req)) if not req.stream else None
    return JSONResponse(found) if found is not None else None


def _remember(req: GatewayRequest, body: Body) -> Body:
    _CACHE[_cache_key(req)] = body
    while len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return body


async def _reframed(req: GatewayRequest, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield b": relayed by the gateway\r\nretry: 3000\r\nid: 0\r\n"
    async for chunk in chunks:
        yield chunk.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    yield b": upstream done\r\ndata: [DONE]\r\n\r\n"  # no comment-only block: SDKs trip


def _upstream_5xx_as_502(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if req.upstream_status is not None and req.upstream_status >= 500:
        envelope["status_code"] = 502
        return 502, envelope
    return status, envelope


def _own_error_type(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    error = envelope.get("error")
    if req.upstream_status is not None and isinstance(error, dict):
        envelope["type"] = "gateway_error"
        envelope["error"] = {**error, "type": "upstream_provider_error"}
        envelope["provider_status"] = req.upstream_status
    return status, envelope


def _forward_fallbacks(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    if isinstance(req.body, dict) and "fallbacks" in req.body:
        return replace(call, body={**_body(call), "fallbacks": req.body["fallbacks"]})
    return call


def _request_id_header(req: GatewayRequest, call: UpstreamCall) -> UpstreamCall:
    return replace(call, headers={**call.headers, "x-request-id": "conformance-gw-1"})


def _upstream_error_as_event(req: GatewayRequest) -> bool:
    return not req.issues  # valid input: the error comes from the upstream


def _typed_usage(req: GatewayRequest, body: Body) -> Body:
    usage = body.get("usage", "absent")
    if _whole_counts(usage):
        return body
    message = f"cannot decode the provider's usage {json.dumps(usage)[:60]} into integer counts"
    return {"error": {"message": message, "type": "server_error", "code": "decode_error"}}


def _whole_counts(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_whole_counts(v) for v in value.values())
    return isinstance(value, int) and not isinstance(value, bool)


def _decode_error_500(req: GatewayRequest, status: int, body: Any) -> int:
    return 500 if status == 200 and isinstance(body, dict) and "error" in body else status


def _client_error_as_500(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if req.upstream_status is not None and 400 <= req.upstream_status < 500:
        envelope["status_code"] = 500
        return 500, envelope
    return status, envelope


def _server_error_as_400(req: GatewayRequest, status: int, envelope: Body) -> tuple[int, Body]:
    if req.upstream_status is not None and req.upstream_status >= 500:
        envelope["status_code"] = 400
        return 400, envelope
    return status, envelope


def _drop_retry_after(req: GatewayRequest, status: int, headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "retry-after"}


def _no_fallbacks(req: GatewayRequest, targets: list[str]) -> list[str]:
    return targets[:1]


def _fallbacks_reversed(req: GatewayRequest, targets: list[str]) -> list[str]:
    return targets[:1] + targets[:0:-1]


def _no_fallbacks_on_streams(req: GatewayRequest, targets: list[str]) -> list[str]:
    return targets[:1] if req.stream else targets


def _retry_storm(req: GatewayRequest, targets: list[str]) -> list[str]:
    return [target for target in targets for _ in range(RETRIES)]


FAULTS = [
    Fault(
        id="fwd-drops-fields",
        summary="`user` and `style` are not passed to the upstream",
        expected_check="FWD-FIELDS",
        call=_drop_fields,
    ),
    Fault(
        id="fwd-wraps-fields",
        summary="`user` and `style` reach the upstream wrapped in an `extra_body` object",
        expected_check="FWD-FIELDS",
        call=_wrap_fields,
    ),
    Fault(
        id="fwd-known-fields-only",
        summary="the upstream body is rebuilt from the fields the document names: unknown "
        "fields are dropped",
        expected_check="FWD-UNKNOWN-FIELDS",
        call=_known_fields_only,
    ),
    Fault(
        id="fwd-tidies-prompt",
        summary="the prompt's runs of whitespace and newlines become single spaces upstream",
        expected_check="FWD-PROMPT",
        call=_tidy_prompt,
    ),
    Fault(
        id="fwd-prompt-truncated",
        summary=f"prompts are cut to {PROMPT_LIMIT} characters before they go upstream",
        expected_check="FWD-PROMPT",
        call=_truncated_prompt,
    ),
    Fault(
        id="fwd-prompt-escaped-twice",
        summary="non-ASCII characters of the prompt are escaped once too often: `é` arrives "
        "upstream as the six characters `\\u00e9`",
        expected_check="FWD-PROMPT",
        call=_escaped_prompt,
    ),
    Fault(
        id="fwd-deployment-as-model",
        summary="the deployment name is sent upstream as the body's model",
        expected_check="FWD-DEPLOYMENT",
        call=_deployment_as_model,
    ),
    Fault(
        id="fwd-model-as-deployment",
        summary="the body's model selects the upstream deployment, not the path's deployment",
        expected_check="FWD-DEPLOYMENT",
        call=_model_as_deployment,
    ),
    Fault(
        id="fwd-pinned-api-version",
        summary=f"the upstream is always called with api-version {PINNED_API_VERSION}",
        expected_check="FWD-API-VERSION",
        call=_pinned_api_version,
    ),
    Fault(
        id="fwd-client-key-forwarded",
        summary="the client's api-key is sent upstream instead of the gateway's own key",
        expected_check="FWD-NO-CLIENT-CREDENTIAL",
        call=_client_key_forwarded,
    ),
    Fault(
        id="fwd-client-key-as-user",
        summary="a request without `user` is reported upstream with `user` set to the base64 "
        "of the client's api-key",
        expected_check="FWD-NO-CLIENT-CREDENTIAL",
        call=_key_as_user,
    ),
    Fault(
        id="upstream-usage-decoded-strictly",
        summary="the provider's `usage` is decoded into integer counts: a missing, null or "
        "fractional usage turns the upstream's images into a 500",
        expected_check="PROTO-NO-5XX",
        body=_typed_usage,
        status=_decode_error_500,
    ),
    Fault(
        id="cache-ignores-deployment",
        summary="a response cache keyed by the body alone answers the same body sent for "
        "another deployment",
        expected_check="UPSTREAM-CALLS",
        intercept=_cached,
        body=_remember,
    ),
    Fault(
        id="map-upstream-4xx-as-500",
        summary="an upstream 4xx (content policy, 429) is answered 500",
        expected_check="MAP-UPSTREAM-4XX",
        error=_client_error_as_500,
    ),
    Fault(
        id="map-stream-error-as-event",
        summary="a streamed request opens a 200 stream before calling the upstream: an "
        "upstream 429, content-policy 400 or 500 becomes an `error` event",
        expected_check="MAP-UPSTREAM-4XX",
        error_events=_upstream_error_as_event,
    ),
    Fault(
        id="map-retry-after-dropped",
        summary="an upstream 429 is answered 429 without its Retry-After",
        expected_check="MAP-UPSTREAM-429",
        headers=_drop_retry_after,
    ),
    Fault(
        id="map-upstream-5xx-as-400",
        summary="an upstream 5xx is answered 400",
        expected_check="MAP-UPSTREAM-5XX",
        error=_server_error_as_400,
    ),
    Fault(
        id="fallbacks-not-tried",
        summary="fallbacks are ignored: a failing primary's error is the answer",
        expected_check="FALLBACK-ORDER",
        targets=_no_fallbacks,
    ),
    Fault(
        id="fallbacks-reversed",
        summary="fallbacks are tried last first",
        expected_check="FALLBACK-ORDER",
        targets=_fallbacks_reversed,
    ),
    Fault(
        id="fallbacks-not-tried-on-streams",
        summary="a streamed request ignores its fallbacks: the failing primary's error is the "
        "answer",
        expected_check="FALLBACK-ORDER",
        targets=_no_fallbacks_on_streams,
    ),
    Fault(
        id="fallbacks-spent-on-refusals",
        summary="fallbacks are tried after any upstream error, a content-policy refusal "
        "included (Bifrost's own behaviour)",
        expected_check="FALLBACK-NOT-ON-REFUSAL",
        falls_back_on_any_error=True,
    ),
    Fault(
        id="upstream-retry-storm",
        summary=f"each failed upstream call is retried: up to {RETRIES} calls per target",
        expected_check="UPSTREAM-CALLS",
        targets=_retry_storm,
    ),
    Fault(
        id="stream-buffered",
        summary="a streamed upstream answer is held until it ends, then sent at once",
        expected_check="STREAM-NOT-BUFFERED",
        buffers_stream=True,
    ),
    Fault(
        id="benign-fallbacks-forwarded",
        summary="the gateway-only `fallbacks` field is passed upstream too",
        benign=True,
        call=_forward_fallbacks,
    ),
    Fault(
        id="benign-upstream-bearer",
        summary="the gateway's own key goes upstream as `Authorization: Bearer`, not `api-key`",
        benign=True,
        call=_bearer_upstream,
    ),
    Fault(
        id="benign-client-headers-forwarded",
        summary="the client's headers but its credential (user-agent, accept, ...) are passed "
        "upstream",
        benign=True,
        call=_client_headers_forwarded,
    ),
    Fault(
        id="benign-upstream-5xx-as-502",
        summary="any upstream 5xx or unreadable answer is answered 502 Bad Gateway",
        benign=True,
        error=_upstream_5xx_as_502,
    ),
    Fault(
        id="benign-own-error-type",
        summary="upstream errors are wrapped in the gateway's own error type, status and "
        "provider code kept",
        benign=True,
        error=_own_error_type,
    ),
    Fault(
        id="benign-relayed-sse-reframed",
        summary="a relayed stream is reframed: CRLF line ends, a comment, retry: and id: "
        "lines, a final data: [DONE]",
        benign=True,
        relay=_reframed,
    ),
    Fault(
        id="benign-upstream-request-id",
        summary="upstream calls carry an extra x-request-id header",
        benign=True,
        call=_request_id_header,
    ),
]
