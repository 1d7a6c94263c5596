"""Servers the benchmarks measure against, each in its own process (so the measured process
pays only for its own work). Each prints its base URL on the first line of stdout.

  servers.py gateway [--latency S]         the reference gateway; GET /__bench/count: what it served
  servers.py json --mb N                   any POST: a JSON body with one b64_json of N MB
  servers.py stream --events N --kb K      any POST: N SSE events of K KiB (N=0: never ends)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.targets.listen import listening_socket

BENCH_PREFIX = "/__bench/"
COUNT_PATH = BENCH_PREFIX + "count"


def gateway_app(latency_s: float) -> Any:
    from conformance.spec import load_spec
    from conformance.targets.reference import IMAGE_ROUTE, Pace, create_app

    app = create_app(load_spec(), pace=Pace(latency_s=latency_s))
    seen: dict[str, float] = {"requests": 0, "image_fetches": 0, "first_s": 0.0, "last_s": 0.0}

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Counts every request but the bench's own (`/__bench/...`), and the monotonic clock
        at the first one's arrival and the latest one's end: a client's active window, the same
        instrument whichever client it is."""
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] == COUNT_PATH:
            await JSONResponse(seen)(scope, receive, send)
            return
        if scope["path"].startswith(BENCH_PREFIX):
            await app(scope, receive, send)
            return
        seen["requests"] += 1
        seen["image_fetches"] += scope["path"].startswith(IMAGE_ROUTE + "/")
        seen["first_s"] = seen["first_s"] or time.monotonic()
        try:
            await app(scope, receive, send)
        finally:
            seen["last_s"] = max(seen["last_s"], time.monotonic())

    return counting


def json_app(mb: int) -> Starlette:
    async def big_json(request: Request) -> Response:
        chunk = b"A" * (1 << 20)
        count = mb

        async def body() -> AsyncIterator[bytes]:
            yield b'{"created": 1700000000, "data": [{"b64_json": "'
            for _ in range(count):
                yield chunk
            yield b'", "index": 0}]}'

        return StreamingResponse(body(), media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", big_json, methods=["POST"])])


def stream_app(events: int, kb: int) -> Starlette:
    async def stream(request: Request) -> Response:
        data = "A" * (kb * 1024)
        head = b"event: image_generation.partial_image\ndata: "
        tail = json.dumps({"b64_json": data, "partial_image_index": 0})[1:].encode() + b"\n\n"

        async def frames() -> AsyncIterator[bytes]:
            number = 0
            while events == 0 or number < events:
                yield b'%s{"type": "image_generation.partial_image", "sequence_number": %d, %s' % (
                    head,
                    number,
                    tail,
                )
                number += 1
                if number % 64 == 0:
                    await asyncio.sleep(0)

        return StreamingResponse(frames(), media_type="text/event-stream")

    return Starlette(routes=[Route("/{path:path}", stream, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["gateway", "json", "stream"])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--kb", type=int, default=1)
    args = parser.parse_args()
    apps = {
        "gateway": lambda: gateway_app(args.latency),
        "json": lambda: json_app(args.mb),
        "stream": lambda: stream_app(args.events, args.kb),
    }
    app = apps[args.kind]()
    sock = listening_socket()
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
