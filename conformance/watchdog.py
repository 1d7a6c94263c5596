"""The watchdog of one request: its deadline, its socket, and what a cut or failure is called.

The per-chunk deadline checks of a read only run when bytes arrive; the watchdog also bounds a
gateway that trickles its status line and headers, or stalls between chunks, by shutting the
request's socket down at the deadline (`conformance.deadlines` runs every watchdog's timer on
one thread). Transport failures are named here too (`classify_error`), so that a failure on
the suite's own side is never charged to the gateway.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from conformance.deadlines import DEADLINES
from conformance.model import TransportErrorKind as Kind
from conformance.timing import SCALE

SUITE_ERRNOS = frozenset({errno.EBADF, errno.ENOTSOCK})
"""A socket the suite itself closed or lost: never the gateway's doing."""


class Cut(Exception):  # noqa: N818 - control flow inside the client, never raised out of it
    """Ends reading a response: `kind` and `detail` become the exchange's transport error."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class Watchdog:
    """Shuts the request's socket down when its deadline passes, whatever the gateway sends.

    The per-chunk deadline checks only run when bytes arrive; this also bounds a gateway that
    trickles its status line and headers, or stalls between chunks. It learns the socket when
    the connection opens (httpcore's `trace`) and again from the answer (`network_stream`), so
    a request on any connection can be cut. It also times the reads (the longest gap) and when
    a stream delivered its last expected event.
    """

    def __init__(self, limit: float, kind: Kind = Kind.DEADLINE, reason: str | None = None) -> None:
        self.limit = limit
        self.fired = False
        self.aborted = False
        self.started_at = time.monotonic()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._deadline: int | None = None
        """The token of the armed deadline (`conformance.deadlines`)."""
        self.reason = reason
        self.kind = kind
        self.ended_at: float | None = None
        """Seconds from the start to the stream's last expected event (None: not yet)."""
        self.longest_gap = 0.0
        self._last_read: float | None = None

    def __enter__(self) -> Watchdog:
        self.rearm(self.limit, self.reason, self.kind)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._deadline is not None:
            DEADLINES.cancel(self._deadline)

    def rearm(self, limit: float, reason: str | None = None, kind: Kind = Kind.DEADLINE) -> None:
        """Move the deadline to `limit` seconds after the request started."""
        if self._deadline is not None:
            DEADLINES.cancel(self._deadline)
        self.limit, self.reason, self.kind = limit, reason, kind
        self._deadline = DEADLINES.call_at(self.started_at + limit, self._fire)

    def stream_ended(self, grace: float) -> None:
        """The stream delivered its last expected event: it may stay open `grace` more, or
        `SCALE` times the longest pause between its own events if that is longer (a stream
        paced slowly may close as slowly)."""
        grace = max(grace, SCALE * self.longest_gap)
        now = time.monotonic() - self.started_at
        self.ended_at = now
        if now + grace < self.limit:
            self.rearm(
                now + grace,
                f"stream stayed open {grace:g}s after its last expected event",
                Kind.LINGER,
            )

    def overdue(self) -> bool:
        return time.monotonic() - self.started_at > self.limit

    def read_now(self) -> None:
        """A read returned: note the gap since the previous one."""
        now = time.monotonic()
        if self._last_read is not None:
            self.longest_gap = max(self.longest_gap, now - self._last_read)
        self._last_read = now

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx `trace` extension: remember the socket of the request's connection."""
        if event == "connection.connect_tcp.complete":
            self._remember(info["return_value"].get_extra_info("socket"))

    def adopt(self, response: httpx.Response) -> None:
        """Remember the socket the answer arrives on (also for a reused connection)."""
        self._last_read = time.monotonic()
        stream = response.extensions.get("network_stream")
        if stream is not None:
            self._remember(stream.get_extra_info("socket"))

    def _remember(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
        if self.fired:
            self._fire()

    def abort(self) -> None:
        self.aborted = True
        self._fire()

    @contextlib.contextmanager
    def unless_aborted(self) -> Iterator[None]:
        """Send nothing once the run was stopped: the request ends ABORTED at once."""
        if self.aborted:
            raise self.cut()
        yield

    def _fire(self) -> None:
        self.fired = True
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def classify(self, exc: httpx.HTTPError) -> tuple[Kind, str]:
        if not self.aborted and (not self.fired or isinstance(exc, httpx.TimeoutException)):
            return classify_error(exc)
        cut = self.cut()
        return cut.kind, cut.detail

    def raise_if_fired(self) -> None:
        """A body that ended because the watchdog closed it was cut, not complete."""
        if self.fired:
            raise self.cut()

    def cut(self) -> Cut:
        """The error of a request this watchdog cut (or is about to)."""
        if self.aborted:
            return Cut(Kind.ABORTED, "request abandoned: the run was stopped")
        if self.reason:
            return Cut(self.kind, f"{self.reason}; connection closed")
        return Cut(
            Kind.DEADLINE, f"response still incomplete after {self.limit:g}s; connection closed"
        )


def _tls_failure(exc: BaseException) -> bool:
    import ssl

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "[SSL" in str(exc)


def _suite_side(exc: BaseException) -> bool:
    """A failure of the suite's own transport: a socket it closed or lost (EBADF, ENOTSOCK),
    its connection pool."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, httpx.PoolTimeout):
            return True
        if isinstance(seen, OSError) and seen.errno in SUITE_ERRNOS:
            return True
        if "Bad file descriptor" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify_error(exc: httpx.HTTPError) -> tuple[Kind, str]:
    detail = str(exc) or exc.__class__.__name__
    if _suite_side(exc):
        return Kind.SUITE, f"transport error on the suite's side: {detail}"
    if isinstance(exc, httpx.ConnectError):
        if _tls_failure(exc):
            return Kind.CONNECT, f"TLS handshake failed: {detail}"
        return Kind.CONNECT, detail
    if isinstance(exc, httpx.ConnectTimeout):
        return Kind.CONNECT, f"connect timeout: {detail}"
    if isinstance(exc, httpx.TimeoutException):
        return Kind.TIMEOUT, f"{exc.__class__.__name__}: {detail}"
    if isinstance(exc, httpx.DecodingError):
        return Kind.DECODING, f"content-encoding could not be decoded: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return Kind.PROTOCOL, detail
    if isinstance(exc, httpx.ReadError):
        return Kind.RESET, f"connection broken mid-response: {detail}"
    return Kind.TRANSPORT, f"{exc.__class__.__name__}: {detail}"
