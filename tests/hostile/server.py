"""A raw HTTP/1.1 server on a free 127.0.0.1 port that answers the image route with a behaviour.

By default only the image-generation route gets the behaviour; any other request (the runner's
probe, a URL fetch) gets a small 404 so that only the route under test misbehaves. Every handler
thread is a daemon and every wait obeys the server's stop event, so no test waits on a server.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

IMAGE_ROUTE = "/images/generations"
MAX_HEAD_BYTES = 64 * 1024
READ_TIMEOUT_S = 5.0


@dataclass
class Request:
    """What the suite sent: method, target path, lower-cased headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = Callable[[socket.socket, Request, threading.Event], None]


@dataclass
class HostileServer:
    """A running server: its base URL, the image requests it received, and its stop event."""

    url: str
    requests: list[Request] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def hits(self) -> int:
        return len(self.requests)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, behaviour: Behaviour, route: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.route = route
        host, port = self.server_address[:2]
        self.state = HostileServer(url=f"http://{host!s}:{port}")
        self.lock = threading.Lock()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(READ_TIMEOUT_S)
        buffer = b""
        with contextlib.suppress(OSError):
            while not self.server.state.stop.is_set():
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                if self.server.route not in request.path:
                    sock.sendall(NOT_FOUND)
                    continue
                with self.server.lock:
                    self.server.state.requests.append(request)
                self.server.behaviour(sock, request, self.server.state.stop)
                return  # a behaviour owns the connection: it is never reused


NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
)


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD_BYTES:
            return None, b""
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return Request(method, path, headers, rest[:length]), rest[length:]


@contextlib.contextmanager
def serving(behaviour: Behaviour, route: str = IMAGE_ROUTE) -> Iterator[HostileServer]:
    """Serve `behaviour` on a free loopback port for the duration of the block.

    `route` selects the requests that get it (a path substring; "" for every request).
    """
    server = _Server(behaviour, route)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.state
    finally:
        server.state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def response_head(
    status: int, reason: str, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()
) -> bytes:
    """The status line and headers of a response, ready to send."""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send_response(
    sock: socket.socket,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] = (),
) -> None:
    """A complete response with a correct Content-Length; the connection closes after it."""
    base = (("content-type", content_type), ("content-length", str(len(body))))
    sock.sendall(response_head(status, reason, (*base, *headers, ("connection", "close"))) + body)
