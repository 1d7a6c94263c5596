"""Hand-built exchanges for the check tests: a case, what was sent, and what came back."""

from __future__ import annotations

import base64
import io
import json
import time
from functools import lru_cache
from typing import Any

from PIL import Image

from conformance.checks.registry import ExchangeContext, Fetch, Problem, RunContext, get
from conformance.model import Case, Exchange, FetchResult, SentRequest, StreamEvent
from conformance.spec import JSON, SSE, Spec, load_spec

URL = "http://127.0.0.1:9/openai/openai/deployments/d/images/generations?api-version=1"


@lru_cache(maxsize=1)
def spec() -> Spec:
    return load_spec()


@lru_cache(maxsize=32)
def image(width: int, height: int, kind: str = "PNG") -> bytes:
    """A small-on-the-wire image of the given dimensions."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, format=kind)
    return out.getvalue()


def b64(width: int, height: int, kind: str = "PNG") -> str:
    return base64.b64encode(image(width, height, kind)).decode()


def case(body: dict[str, Any] | None = None, **fields: Any) -> Case:
    """A valid request by default: `dall-e-3`, a prompt, plus `body`'s fields."""
    request = {"model": "dall-e-3", "prompt": "a lighthouse at dusk"}
    request.update(body or {})
    options: dict[str, Any] = {"id": "case-1", "kind": "positive", "title": "t"}
    options.update({"expect": "success", **fields})
    return Case(body=request, **options)


def exchange(
    sent: Case | None = None,
    *,
    status: int | None = 200,
    json_body: Any = None,
    raw: bytes | None = None,
    content_type: str | None = None,
    events: list[StreamEvent] | None = None,
    transport_error: str | None = None,
    detail: str = "",
) -> Exchange:
    """What a gateway answered to `sent`; JSON unless `raw` or `events` are given."""
    sent = sent or case()
    body = raw if raw is not None else b"" if json_body is None else json.dumps(json_body).encode()
    if content_type is None:
        content_type = SSE if events is not None else JSON if body else ""
    headers = {"content-type": content_type} if content_type else {}
    request = SentRequest("POST", URL, {"content-type": JSON}, json.dumps(sent.body).encode())
    return Exchange(
        case=sent,
        request=request,
        status=status,
        headers=headers,
        body=body,
        events=events,
        transport_error=transport_error,
        transport_detail=detail,
    )


def events(*payloads: Any) -> list[StreamEvent]:
    """Stream events; dicts become JSON data, strings are sent as they are."""
    return [
        StreamEvent("", p if isinstance(p, str) else json.dumps(p), "", None, 0.01 * i)
        for i, p in enumerate(payloads)
    ]


def image_body(n: int = 1, size: str = "1024x1024", **extra: Any) -> dict[str, Any]:
    """A correct 200 body with `n` base64 images of `size`."""
    width, height = (int(v) for v in size.split("x"))
    data = [{"b64_json": b64(width, height), "index": i} for i in range(n)]
    return {"created": int(time.time()), "data": data, "size": size, **extra}


def image_stream(n: int = 1, size: str = "1024x1024") -> list[StreamEvent]:
    """A correct stream: one partial and one completed event per image, then [DONE]."""
    width, height = (int(v) for v in size.split("x"))
    now, seq, items = int(time.time()), 0, []
    for i in range(n):
        items.append(
            {
                "type": "image_generation.partial_image",
                "partial_image_index": i,
                "sequence_number": seq,
                "created_at": now,
                "b64_json": b64(8, 8),
            }
        )
        items.append(
            {
                "type": "image_generation.completed",
                "sequence_number": seq + 1,
                "created_at": now,
                "size": size,
                "b64_json": b64(width, height),
                "usage": {"input_tokens": 10, "output_tokens": 90, "total_tokens": 100},
            }
        )
        seq += 2
    return events(*items, "[DONE]")


def no_fetch(url: str) -> FetchResult:
    raise AssertionError(f"unexpected fetch of {url}")


def run(check_id: str, ex: Exchange, fetch: Fetch = no_fetch, on: Spec | None = None) -> Any:
    """Apply one exchange check (or a run check to the single exchange) and return its outcome."""
    chosen = on or spec()
    found = get(check_id)
    if found.scope == "run":
        return found.func(RunContext(chosen, chosen.operation, [ex], fetch))
    outcome: list[Problem] | None = found.func(ExchangeContext(chosen, chosen.operation, ex, fetch))
    return outcome


def run_all(check_id: str, exchanges: list[Exchange], fetch: Fetch = no_fetch) -> Any:
    """Apply a run-scope check to several exchanges."""
    return get(check_id).func(RunContext(spec(), spec().operation, exchanges, fetch))


def passes(outcome: Any) -> bool:
    return outcome == []


def fails(outcome: Any) -> bool:
    return bool(outcome) and all(isinstance(p, Problem) and not p.error for p in outcome)
