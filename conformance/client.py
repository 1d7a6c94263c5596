"""One exchange with the gateway: build the request, read a JSON or SSE response within bounds.

Every read is bounded: a connect timeout, a first-byte wait, a read timeout between bytes once
the answer started, a deadline per answer, a cap on the bytes read, and for streams a cap on
event count and on duration (from the first byte). The windows scale with the latencies the run
measured (`conformance.timing`). Whatever goes wrong on the wire becomes
`Exchange.transport_error`, never an exception out of `Client.send`.

Each worker thread sends through an HTTP client of its own, one connection per request: a
connection pool shared between threads can close a connection that has just gone idle while
another thread reads from it (encode/httpcore#1110: "Bad file descriptor", charged to no one),
and a watchdog that knows every request's socket can cut any request at its deadline. A
transport error on the suite's side (its socket, pool, file descriptors) is retried, and
reported as `SUITE` (never the gateway's) if it persists.
"""

from __future__ import annotations

import contextlib
import errno
import http.cookiejar
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from conformance import __version__
from conformance.config import Bounds, Target, tls_verify
from conformance.deadlines import DEADLINES
from conformance.decoding import BoundedDecoder, DecodeError, encodings
from conformance.json_text import ReadBody, read_json
from conformance.model import (
    Case,
    Exchange,
    FetchResult,
    SentRequest,
    StreamEvent,
    accept_header,
)
from conformance.model import (
    TransportErrorKind as Kind,
)
from conformance.spec import SSE, Operation
from conformance.sse_framing import FramedEvent, SSEFraming
from conformance.timing import SCALE, Answer, Latencies, Windows
from conformance.urlpolicy import Admission

StreamEnd = Callable[[StreamEvent], bool]
Admit = Callable[[str], Admission]
"""Asked before each request of a fetch (every redirect hop): whether to send it (else why
not: the request budget is spent, the address is not allowed), and to which addresses."""
MAX_REDIRECTS = 5
SUITE_RETRIES = 2
"""Re-sends of a request that met a transport error on the suite's side."""
SUITE_ERRNOS = frozenset({errno.EBADF, errno.ENOTSOCK})
"""A socket the suite itself closed or lost: never the gateway's doing."""
ACCEPT_ENCODING = "gzip, deflate"
"""The codings `conformance.decoding` undoes within bounds (sent explicitly: httpx would
offer br and zstd too when their libraries happen to be installed)."""


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that stores nothing: every request stands alone, whatever Set-Cookie says."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class _Cut(Exception):  # noqa: N818 - control flow inside the client, never raised out of it
    """Ends reading a response: `kind` and `detail` become the exchange's transport error."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class Client:
    """Sends cases to one operation of one target, within `Bounds`."""

    def __init__(self, target: Target, op: Operation, bounds: Bounds | None = None) -> None:
        self.target = target
        self.op = op
        self.bounds = bounds or Bounds()
        self.latencies = Latencies()
        """Latencies of the answers so far: the windows of later requests scale with them."""
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._in_flight: set[_Watchdog] = set()
        self._in_flight_lock = threading.Lock()
        self.aborted = False

    def _http(self) -> httpx.Client:
        """This thread's own HTTP client (see the module docstring for why not one shared)."""
        client: httpx.Client | None = getattr(self._local, "http", None)
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(
                    self.bounds.read_timeout, connect=self.bounds.connect_timeout
                ),
                # One connection per request: the watchdog always knows the request's socket.
                limits=httpx.Limits(max_keepalive_connections=0),
                follow_redirects=False,
                trust_env=False,
                cookies=_no_cookies(),
                verify=tls_verify(self.target.ca_bundle),
            )
            del client.headers["accept"]  # each request says its own (a case may send none)
            with self._in_flight_lock:
                self._clients.append(client)
            self._local.http = client
        return client

    def windows(self, answer: Answer) -> Windows:
        """The windows the next request expecting `answer` gets (`conformance.timing`)."""
        return self.latencies.windows(self.bounds, answer)

    def _timeouts(self, first_byte: float, read: float) -> dict[str, float]:
        """The request's `timeout` extension: httpcore reads `read` once for the status line
        and again when the body starts, so the first-byte wait and the read timeout between
        bytes are set apart by changing it in between (see `send`)."""
        connect = self.bounds.connect_timeout
        return {"connect": connect, "read": first_byte, "write": read, "pool": connect}

    def close(self) -> None:
        with self._in_flight_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def abort(self) -> None:
        """Cut every request in flight now, and every later one before it is sent; each ends
        with `transport_error == ABORTED`."""
        with self._in_flight_lock:
            self.aborted = True
            for watchdog in self._in_flight:
                watchdog.abort()

    @contextlib.contextmanager
    def _watch(
        self, limit: float, kind: Kind = Kind.DEADLINE, reason: str | None = None
    ) -> Iterator[_Watchdog]:
        watchdog = _Watchdog(limit, kind, reason)
        with self._in_flight_lock:
            if self.aborted:
                watchdog.aborted = watchdog.fired = True
            self._in_flight.add(watchdog)
        try:
            with watchdog:
                yield watchdog
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(watchdog)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build(self, case: Case) -> SentRequest:
        """The exact request `case` stands for."""
        deployment = case.deployment if case.deployment is not None else self.target.deployment
        path = self.op.render_path(deployment, self.target.path)
        url = self.target.base_url.rstrip("/") + path
        query: list[str] = []
        version = case.api_version if case.api_version is not None else self.target.api_version
        if version and not case.omit_api_version and self.target.send_api_version:
            query.append("api-version=" + quote(version, safe=""))
        key = self.op.key
        if self.target.api_key and key.location == "query" and not self.target.bearer:
            query.append(f"{quote(key.name, safe='')}={quote(self.target.api_key, safe='')}")
        url += "?" + "&".join(query) if query else ""
        body = case.raw_body if case.raw_body is not None else json.dumps(case.body).encode()
        headers = {
            "content-type": case.content_type,
            **accept_header(case),
            "accept-encoding": ACCEPT_ENCODING,
            "user-agent": f"gateway-conformance/{__version__}",
        }
        if self.target.api_key and (self.target.bearer or key.location == "bearer"):
            headers["authorization"] = f"Bearer {self.target.api_key}"
        elif self.target.api_key and key.location == "header":
            headers[key.name.lower()] = self.target.api_key
        headers.update(self.target.extra_headers(deployment, version))
        return SentRequest(self.op.method.upper(), url, headers, body)

    def send(self, case: Case, stream_end: StreamEnd | None = None, widen: float = 1.0) -> Exchange:
        """Send `case` and read the whole response within the run's windows (times `widen`).

        `stream_end(event)` tells when a stream has delivered all it should; from then on it
        may stay open the grace window before it is cut (`LINGER`). A transport error on the
        suite's side is retried `SUITE_RETRIES` times.
        """
        exchange = self._send_once(case, stream_end, widen)
        for _ in range(SUITE_RETRIES):
            if exchange.transport_error is not Kind.SUITE or self.aborted:
                break
            exchange = self._send_once(case, stream_end, widen)
        return exchange

    def _send_once(self, case: Case, stream_end: StreamEnd | None, widen: float) -> Exchange:
        request = self.build(case)
        exchange = Exchange(case=case, request=request)
        expected: Answer = "stream" if case.streamed(self.op) else "json"
        win = self.windows(expected).widened(widen)
        timeouts = self._timeouts(win.first_byte, win.read)
        started = time.monotonic()
        try:
            with (
                self._watch(win.first_byte, Kind.DEADLINE, _first_byte(win)) as watchdog,
                watchdog.unless_aborted(),
                self._http().stream(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                    extensions={"trace": watchdog.trace, "timeout": timeouts},
                ) as response,
            ):
                first_byte = time.monotonic() - started
                watchdog.adopt(response)
                timeouts["read"] = win.read  # from now on: the wait between bytes
                exchange.status = response.status_code
                exchange.headers = _flat_headers(response.headers)
                answer: Answer = "stream" if exchange.media_type == SSE else "json"
                self.latencies.record(answer, "first_byte", first_byte)
                if answer == "stream":
                    exchange.events = []
                    watchdog.rearm(
                        first_byte + win.stream_cap,
                        f"stream still open {win.stream_cap:g}s after its first byte",
                    )
                    self._read_events(response, exchange, started, watchdog, stream_end, win)
                else:
                    watchdog.rearm(max(win.total, first_byte + win.read))
                    exchange.take(self._read_body(response, watchdog))
                watchdog.raise_if_fired()
                self._measured(answer, watchdog, first_byte)
        except _Cut as exc:
            exchange.transport_error, exchange.transport_detail = exc.kind, exc.detail
        except httpx.HTTPError as exc:
            exchange.transport_error, exchange.transport_detail = watchdog.classify(exc)
        exchange.elapsed_s = time.monotonic() - started
        return exchange

    def _measured(self, answer: Answer, watchdog: _Watchdog, first_byte: float) -> None:
        """Record the latencies of an answer read whole (cut ones would only widen the windows
        that cut them)."""
        now = time.monotonic() - watchdog.started_at
        self.latencies.record(answer, "gap", watchdog.longest_gap)
        self.latencies.record(answer, "duration", now - first_byte if answer == "stream" else now)
        if watchdog.ended_at is not None:
            self.latencies.record(answer, "end_lag", now - watchdog.ended_at)

    def fetch(self, url: str, method: str = "GET", admit: Admit | None = None) -> FetchResult:
        """GET a URL the gateway returned (an image), within the same bounds. Redirects (a CDN)
        are followed up to `MAX_REDIRECTS` hops; `admit` is asked before every hop."""
        started = time.monotonic()
        for _hop in range(MAX_REDIRECTS + 1):
            admission = admit(url) if admit else Admission()
            if admission.refusal:
                detail = f"{url} not fetched: {admission.refusal}"
                return FetchResult(error=Kind.NOT_FETCHED, detail=detail)
            if admission.unresolved:
                return FetchResult(error=Kind.CONNECT, detail=admission.unresolved)
            result, url_next = self._fetch_pinned(url, method, started, admission.addresses)
            if url_next is None:
                return result
            url = url_next
        return FetchResult(
            error=Kind.TOO_MANY_REDIRECTS, detail=f"more than {MAX_REDIRECTS} redirects; stopped"
        )

    def _fetch_pinned(
        self, url: str, method: str, started: float, addresses: tuple[str, ...]
    ) -> tuple[FetchResult, str | None]:
        """One hop to the first of `addresses` that takes the connection (none: the URL's
        own host, an address itself)."""
        result, url_next = FetchResult(error=Kind.CONNECT), None
        for address in addresses or (None,):
            result, url_next = self._fetch_once(url, method, started, address)
            if result.error != Kind.CONNECT:
                break
        return result, url_next

    def _fetch_once(
        self, url: str, method: str, started: float, address: str | None = None
    ) -> tuple[FetchResult, str | None]:
        """One hop: the result, and the next URL when the answer is a redirect. With
        `address`, the connection goes there; the URL's name stays in the Host header and is
        the TLS server name (so the certificate is checked against it)."""
        try:
            wanted = httpx.URL(url)
        except (httpx.InvalidURL, UnicodeError) as exc:
            return FetchResult(error=Kind.PROTOCOL, detail=f"not a valid URL: {exc}"), None
        headers = {"accept": "*/*", "accept-encoding": ACCEPT_ENCODING}
        extensions: dict[str, Any] = {}
        target = wanted
        if address is not None:
            target = wanted.copy_with(host=address)
            headers["host"] = wanted.netloc.decode("ascii")
            if wanted.scheme == "https":
                extensions["sni_hostname"] = wanted.host
        win = self.windows("json")
        timeouts = self._timeouts(win.first_byte, win.read)
        try:
            with (
                self._watch(win.total) as watchdog,
                watchdog.unless_aborted(),
                self._http().stream(
                    method,
                    target,
                    headers=headers,
                    extensions={**extensions, "trace": watchdog.trace, "timeout": timeouts},
                ) as response,
            ):
                watchdog.adopt(response)
                timeouts["read"] = win.read
                location = response.headers.get("location")
                if response.has_redirect_location and location is not None:
                    try:
                        next_url = str(wanted.join(location))
                    except (httpx.InvalidURL, UnicodeError) as exc:
                        detail = f"redirect to an invalid URL: {exc}"
                        return FetchResult(error=Kind.PROTOCOL, detail=detail), None
                    return FetchResult(response.status_code), next_url
                body = self._read_bytes(response, watchdog)
                watchdog.raise_if_fired()
                headers = _flat_headers(response.headers)
                return FetchResult(response.status_code, headers, body), None
        except _Cut as exc:
            return FetchResult(error=exc.kind, detail=exc.detail), None
        except httpx.HTTPError as exc:
            kind, detail = watchdog.classify(exc)
            return FetchResult(error=kind, detail=detail), None

    def _read_body(self, response: httpx.Response, watchdog: _Watchdog) -> ReadBody:
        """The body, read once: a large JSON answer is parsed as it arrives, so that it is
        never held twice (`read_json`)."""
        return read_json(self._bounded(response, watchdog))

    def _read_bytes(self, response: httpx.Response, watchdog: _Watchdog) -> bytes:
        """The body's bytes (an image), grown in one buffer."""
        body = bytearray()
        for chunk in self._bounded(response, watchdog):
            body += chunk
        return bytes(body)

    def _bounded(self, response: httpx.Response, watchdog: _Watchdog) -> Iterator[bytes]:
        size = 0
        for chunk in self._decoded(response, watchdog):
            size += len(chunk)
            if size > self.bounds.max_body_bytes:
                limit = self.bounds.max_body_bytes
                raise _Cut(Kind.BODY_TOO_LARGE, f"body exceeded {limit} bytes; read stopped")
            yield chunk
            if watchdog.overdue():
                raise watchdog.cut()

    def _decoded(self, response: httpx.Response, watchdog: _Watchdog) -> Iterator[bytes]:
        """The body's bytes with its content-encodings undone, incrementally: raw and decoded
        bytes both count against `max_body_bytes`. Gaps between reads are measured."""
        limit = self.bounds.max_body_bytes
        try:
            decoder = BoundedDecoder(encodings(response.headers.get("content-encoding", "")), limit)
            raw = 0
            for chunk in response.iter_raw():
                watchdog.read_now()
                raw += len(chunk)
                if raw > limit:
                    raise _Cut(Kind.BODY_TOO_LARGE, f"body exceeded {limit} bytes; read stopped")
                yield from decoder.feed(chunk)
            yield from decoder.flush()
        except DecodeError as exc:
            kind = Kind.BODY_TOO_LARGE if exc.limit else Kind.DECODING
            raise _Cut(kind, f"content-encoding: {exc}") from None

    def _read_events(
        self,
        response: httpx.Response,
        exchange: Exchange,
        started: float,
        watchdog: _Watchdog,
        stream_end: StreamEnd | None,
        win: Windows,
    ) -> None:
        assert exchange.events is not None
        framing = SSEFraming()
        text = _utf8_decoder()
        size = 0
        for chunk in self._decoded(response, watchdog):
            size += len(chunk)
            if size > self.bounds.max_body_bytes:
                raise _Cut(
                    Kind.BODY_TOO_LARGE, f"stream exceeded {self.bounds.max_body_bytes} bytes; cut"
                )
            for framed in framing.feed(text.decode(chunk)) if chunk else ():
                event = self._take(framed, exchange, started)
                ended = watchdog.ended_at is not None
                if event is not None and stream_end is not None and not ended and stream_end(event):
                    watchdog.stream_ended(win.grace)
            if watchdog.overdue():
                raise watchdog.cut()
        for framed in framing.feed(text.decode(b"", final=True)):
            self._take(framed, exchange, started)
        framing.close()

    def _take(self, sse: FramedEvent, exchange: Exchange, started: float) -> StreamEvent | None:
        if sse.data == "":
            return None  # an event without data carries nothing to judge
        assert exchange.events is not None
        event = StreamEvent(sse.event, sse.data, sse.id, sse.retry, time.monotonic() - started)
        exchange.events.append(event)
        if len(exchange.events) > self.bounds.max_events:
            raise _Cut(
                Kind.STREAM_TOO_LONG, f"more than {self.bounds.max_events} events; stream cut"
            )
        return event


class _Watchdog:
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

    def __enter__(self) -> _Watchdog:
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
            return _classify(exc)
        cut = self.cut()
        return cut.kind, cut.detail

    def raise_if_fired(self) -> None:
        """A body that ended because the watchdog closed it was cut, not complete."""
        if self.fired:
            raise self.cut()

    def cut(self) -> _Cut:
        """The error of a request this watchdog cut (or is about to)."""
        if self.aborted:
            return _Cut(Kind.ABORTED, "request abandoned: the run was stopped")
        if self.reason:
            return _Cut(self.kind, f"{self.reason}; connection closed")
        return _Cut(
            Kind.DEADLINE, f"response still incomplete after {self.limit:g}s; connection closed"
        )


def _first_byte(win: Windows) -> str:
    return f"no complete status line within the first-byte wait of {win.first_byte:g}s"


def _utf8_decoder() -> Any:
    import codecs

    # "utf-8-sig": a leading byte-order mark is dropped, as the WHATWG stream rules say.
    return codecs.getincrementaldecoder("utf-8-sig")(errors="replace")


def _flat_headers(headers: httpx.Headers) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        flat[key] = f"{flat[key]}, {value}" if key in flat else value
    return flat


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


def _classify(exc: httpx.HTTPError) -> tuple[Kind, str]:
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
