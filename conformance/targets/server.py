"""Serve the reference gateway: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from conformance.spec import Spec
from conformance.targets.faults import Fault, resolve_fault
from conformance.targets.listen import listening_socket
from conformance.targets.reference import Pace, create_app

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 10.0


@contextmanager
def running_gateway(
    spec: Spec,
    fault: Fault | str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    upstream: str | None = None,
    pace: Pace | None = None,
) -> Iterator[str]:
    """Serve the reference gateway (with `fault`, a `Fault` or its ID, and the `pace` of a
    slow provider) on `host:port`, drawing its own images or, with `upstream` (a base URL),
    forwarding there.

    Port 0 picks a free port. Yields the base URL once the server accepts connections and
    stops the server on exit.
    """
    with running_app(create_app(spec, resolve_fault(fault), upstream, pace), host, port) as url:
        yield url


@contextmanager
def running_app(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve any ASGI `app` in a background thread on `host:port`; yields its base URL."""
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="critical",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="reference-gateway", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield _base_url(host, bound_port)
    finally:
        server.should_exit = True
        thread.join(timeout=SHUTDOWN_TIMEOUT_S)
        sock.close()


def serve(
    spec: Spec,
    host: str = "127.0.0.1",
    port: int = 8080,
    fault: Fault | str | None = None,
    upstream: str | None = None,
    latency_s: float = 0.0,
    image_delay_s: float = 0.0,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the reference gateway (with `fault`, a `Fault` or its ID; `latency_s` before each
    generated answer, `image_delay_s` before each streamed image) until interrupted.

    The socket is bound first, so `announce` receives the base URL actually bound (port 0
    picks a free port) before the first request can arrive."""
    app = create_app(spec, resolve_fault(fault), upstream, Pace(latency_s, image_delay_s))
    sock = listening_socket(host, port)
    if announce:
        announce(_base_url(host, sock.getsockname()[1]))
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
    finally:
        sock.close()


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("reference gateway did not start")
        time.sleep(0.01)
