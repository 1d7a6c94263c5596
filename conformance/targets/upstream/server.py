"""Serve the fake upstream: in a background thread (tests, the embedded pair) or in the
foreground (`conformance upstream`), printing its bound address first."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import uvicorn

from conformance.spec import Spec
from conformance.targets.listen import listening_socket
from conformance.targets.server import running_app
from conformance.targets.upstream.app import UpstreamSettings, create_upstream_app


@contextmanager
def running_upstream(
    spec: Spec,
    settings: UpstreamSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[str]:
    """Serve the fake upstream on `host:port` (0: a free port); yields its base URL."""
    with running_app(create_upstream_app(spec, settings), host, port) as url:
        yield url


def serve_upstream(
    spec: Spec,
    settings: UpstreamSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO = sys.stdout,
) -> None:
    """Serve in the foreground until interrupted. The first line printed is the base URL
    (port 0 picks a free port), so a script can read where to send requests."""
    sock = listening_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"http://{shown}:{sock.getsockname()[1]}", file=out, flush=True)
    print(
        f"fake upstream: model family {settings.model_family}, "
        f"key {'required' if settings.key else 'any non-empty'}, "
        f"stream pace {settings.pace_s:g}s; records at /_upstream/requests",
        file=out,
        flush=True,
    )
    config = uvicorn.Config(
        create_upstream_app(spec, settings), log_level="warning", access_log=False
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
