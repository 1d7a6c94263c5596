"""A latency proxy: any gateway, made as slow as a real provider, and otherwise unchanged.

Every request is forwarded as sent; the answer comes back after a fixed delay plus a random
jitter, and a stream's events are paced (a pause before each event) and its end delayed (a
pause after the last event, before the connection closes). A conforming gateway behind it is
still conforming: the suite must not fail it for being slow (`tests/test_latency_proxy.py`,
the false-red row of `make bench`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from conformance.targets.server import running_app

HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}
)
EVENT_END = b"\n\n"


@dataclass(frozen=True)
class Latency:
    """How slow the proxy makes the gateway behind it (seconds)."""

    delay_s: float = 0.0
    """Before every answer."""
    jitter_s: float = 0.0
    """Up to this much more, at random, before every answer."""
    event_gap_s: float = 0.0
    """Streams: before each event."""
    close_after_s: float = 0.0
    """Streams: after the last event, before the stream ends."""
    seed: int | None = None


def latency_app(upstream: str, latency: Latency) -> Starlette:
    """The proxy in front of `upstream` (a base URL)."""
    chance = random.Random(latency.seed)
    client = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=None, trust_env=False)

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers["accept-encoding"] = "identity"  # events are split on plain bytes
        # The path as sent (percent-escapes kept: `%2F` in a deployment is not a slash).
        raw = request.scope.get("raw_path") or request.url.path.encode()
        target = raw.decode("ascii") + (f"?{request.url.query}" if request.url.query else "")
        outbound = client.build_request(
            request.method, target, headers=headers, content=await request.body()
        )
        answer = await client.send(outbound, stream=True)
        await asyncio.sleep(latency.delay_s + chance.uniform(0.0, latency.jitter_s))
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            return StreamingResponse(_paced(answer, latency), answer.status_code, kept)
        body = await answer.aread()
        await answer.aclose()
        return Response(body, answer.status_code, kept)

    route = Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    return Starlette(routes=[route])


async def _paced(answer: httpx.Response, latency: Latency) -> AsyncIterator[bytes]:
    """The stream's bytes, one event at a time, each after `event_gap_s`."""
    pending = b""
    try:
        async for chunk in answer.aiter_raw():
            pending += chunk
            while EVENT_END in pending:
                event, pending = pending.split(EVENT_END, 1)
                await asyncio.sleep(latency.event_gap_s)
                yield event + EVENT_END
        if pending:
            yield pending
        await asyncio.sleep(latency.close_after_s)
    finally:
        await answer.aclose()


@contextmanager
def running_latency_proxy(upstream: str, latency: Latency) -> Iterator[str]:
    """Serve the proxy in front of `upstream` on a free 127.0.0.1 port; yields its base URL."""
    with running_app(latency_app(upstream, latency)) as url:
        yield url
