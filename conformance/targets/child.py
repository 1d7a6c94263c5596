"""The embedded targets in a process of their own, out of the suite's process and its GIL.

`running_pair(spec, fault, upstream, fake_upstream=...)` serves the reference gateway (and the
fake upstream it forwards to) in one child process, one event loop: the parent binds a free
127.0.0.1 port for each first, so the URLs are known (and connections queue) before the child
has started; it hands the listening sockets to the child, and `ready()` waits, bounded, until
the child says it serves. The child is stopped by its PID; it also exits when its stdin, a pipe
from the parent, closes (the parent is gone).

The child's entry point is `python -m conformance.targets.child FD...`; what it serves (the
spec's document, the fault's ID, the upstream URL) comes as one pickle on its stdin.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from conformance.spec import Spec
from conformance.targets.listen import listening_socket

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 3.0
READY = b"ready\n"
_LENGTH = struct.Struct("!I")


@dataclass(frozen=True)
class Order:
    """What the child serves: the reference gateway (with `fault`, forwarding to `upstream`, a
    URL, or drawing itself) on its first socket, and with `fake_upstream` the fake upstream on
    its second; for the spec given by its document."""

    raw: dict[str, Any]
    source: str
    sha256: str
    fault: str | None
    upstream: str | None
    fake_upstream: bool
    base_uri: str = ""
    """Where the document's relative `$ref`s point (its sibling files)."""
    selector: str | None = None
    """The operation `--operation` named."""
    validate: bool = True


@dataclass
class Pair:
    """The served targets: the gateway's URL, the upstream's (None: the gateway draws
    itself), and `ready()`, which returns once the child serves them."""

    url: str
    upstream: str | None
    ready: Callable[[], None]


@contextlib.contextmanager
def running_pair(
    spec: Spec,
    fault: str | None = None,
    upstream: str | None = None,
    *,
    fake_upstream: bool,
    stop: threading.Event | None = None,
) -> Iterator[Pair]:
    """Serve the reference gateway with `fault`; `fake_upstream`: in front of a fake upstream
    (served too, unless `upstream` names one), else drawing its own images. `ready()` returns
    early once `stop` is set (the run is then stopped anyway)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(_listening())]
        serve_fake = fake_upstream and upstream is None
        if serve_fake:
            sockets.append(stack.enter_context(_listening()))
            upstream = _url(sockets[1])
        forward_to = upstream if fake_upstream else None
        order = Order(
            spec.raw,
            spec.source,
            spec.sha256,
            fault,
            forward_to,
            serve_fake,
            spec.base_uri,
            spec.selector,
            spec.validate,
        )
        child = _start(order, sockets, stack)
        yield Pair(_url(sockets[0]), forward_to, lambda: _wait_ready(child, stop))


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    errors: IO[bytes]
    ready: bool = False


@contextlib.contextmanager
def _listening() -> Iterator[socket.socket]:
    sock = listening_socket()
    try:
        sock.listen(128)  # connections queue from now on; the child accepts them
        yield sock
    finally:
        sock.close()


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _start(order: Order, sockets: list[socket.socket], stack: contextlib.ExitStack) -> _Child:
    errors = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - the stack closes it
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    fds = [sock.fileno() for sock in sockets]
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.targets.child", *map(str, fds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        pass_fds=fds,
        env=env,
        start_new_session=True,  # a Ctrl-C stops the run, which then stops the child
    )
    child = _Child(process, errors)
    stack.callback(_stop, child)
    assert process.stdin is not None
    payload = pickle.dumps(order)
    process.stdin.write(_LENGTH.pack(len(payload)) + payload)
    process.stdin.flush()
    return child


def _wait_ready(child: _Child, stop: threading.Event | None) -> None:
    """Until the child says it serves, within `STARTUP_TIMEOUT_S`; a child that exits or stays
    silent is an error of the suite (RuntimeError, with what the child printed)."""
    stdout = child.process.stdout
    assert stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not child.ready and not (stop is not None and stop.is_set()):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"embedded gateway not ready in {STARTUP_TIMEOUT_S:g}s")
        readable, _, _ = select.select([stdout], [], [], min(left, 0.1))
        if readable:
            if os.read(stdout.fileno(), len(READY)) != READY:
                raise RuntimeError(f"embedded gateway did not start: {_said(child)}")
            child.ready = True
        elif child.process.poll() is not None:
            raise RuntimeError(f"embedded gateway exited: {_said(child)}")


def _said(child: _Child) -> str:
    child.errors.seek(0)
    return child.errors.read()[-2000:].decode("utf-8", "replace").strip() or "nothing printed"


def _stop(child: _Child) -> None:
    """Stop the child by its PID (SIGKILL: it holds nothing to save, and a graceful shutdown
    of its servers costs the run a few tenths of a second)."""
    process = child.process
    if process.poll() is None:
        process.kill()
    process.wait(STOP_TIMEOUT_S)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


# -- in the child --------------------------------------------------------------------------


def _serve(fds: list[int]) -> None:
    """Read the order from stdin, serve it on the inherited sockets `fds` in one event loop,
    say `READY` on stdout once serving, and stop when stdin closes (or at SIGTERM)."""
    import asyncio

    import uvicorn

    from conformance.targets.faults import resolve_fault
    from conformance.targets.reference import create_app
    from conformance.targets.upstream import create_upstream_app

    stdin = sys.stdin.buffer
    (length,) = _LENGTH.unpack(stdin.read(_LENGTH.size))
    order: Order = pickle.loads(stdin.read(length))
    spec = Spec(
        raw=order.raw,
        source=order.source,
        sha256=order.sha256,
        base_uri=order.base_uri,
        selector=order.selector,
        validate=order.validate,
    )
    apps = [create_app(spec, resolve_fault(order.fault), order.upstream, None)]
    if order.fake_upstream:
        apps.append(create_upstream_app(spec, None))
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="critical",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        for app in apps
    ]

    def lifeline() -> None:
        stdin.read()  # returns at EOF: the parent closed the pipe, or is gone
        for server in servers:
            server.should_exit = True

    def announce() -> None:
        while not all(s.started for s in servers):
            if any(s.should_exit for s in servers):
                return
            time.sleep(0.005)
        sys.stdout.buffer.write(READY)
        sys.stdout.buffer.flush()

    async def serve_all() -> None:
        await asyncio.gather(
            *(
                s.serve(sockets=[socket.socket(fileno=fd)])
                for s, fd in zip(servers, fds, strict=True)
            )
        )

    threading.Thread(target=lifeline, daemon=True).start()
    threading.Thread(target=announce, daemon=True).start()
    asyncio.run(serve_all())


if __name__ == "__main__":
    _serve([int(fd) for fd in sys.argv[1:]])
