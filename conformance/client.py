"""One exchange with the gateway: build the request, read a JSON or SSE response within bounds.

Every read is bounded: a connect timeout, a first-byte wait, a read timeout between bytes once
the answer started, a deadline per answer, a cap on the bytes read, and for streams a cap on
event count and on duration (from the first byte). The windows scale with the latencies the run
measured (`conformance.timing`). Whatever goes wrong on the wire becomes
`Exchange.transport_error`, never an exception out of `Client.send`.

The pieces: `conformance.request` builds the exact request, `conformance.connections` holds
each worker thread's HTTP client and the requests in flight, `conformance.watchdog` cuts a
request at its deadline, `conformance.reading` reads the answer within bounds. A transport
error on the suite's side (its socket, pool, file descriptors) is retried, and reported as
`SUITE` (never the gateway's) if it persists.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from conformance.config import Bounds, Target
from conformance.connections import Connections
from conformance.json_text import ReadBody
from conformance.model import (
    Case,
    Exchange,
    FetchResult,
    SentRequest,
)
from conformance.model import (
    TransportErrorKind as Kind,
)
from conformance.reading import StreamEnd, flat_headers, read_body, read_bytes, read_events
from conformance.request import ACCEPT_ENCODING, build_request
from conformance.spec import SSE, Operation
from conformance.timing import Answer, Latencies, Windows
from conformance.urlpolicy import Admission
from conformance.watchdog import Cut, Watchdog

Admit = Callable[[str], Admission]
"""Asked before each request of a fetch (every redirect hop): whether to send it (else why
not: the request budget is spent, the address is not allowed), and to which addresses."""
MAX_REDIRECTS = 5
SUITE_RETRIES = 2
"""Re-sends of a request that met a transport error on the suite's side."""


class Client:
    """Sends cases to one operation of one target, within `Bounds`."""

    def __init__(self, target: Target, op: Operation, bounds: Bounds | None = None) -> None:
        self.target = target
        self.op = op
        self.bounds = bounds or Bounds()
        self.latencies = Latencies()
        """Latencies of the answers so far: the windows of later requests scale with them."""
        self.connections = Connections(self.bounds, target.ca_bundle)

    def windows(self, answer: Answer) -> Windows:
        """The windows the next request expecting `answer` gets (`conformance.timing`)."""
        return self.latencies.windows(self.bounds, answer)

    def _timeouts(self, first_byte: float, read: float) -> dict[str, float]:
        """The request's `timeout` extension: httpcore reads `read` once for the status line
        and again when the body starts, so the first-byte wait and the read timeout between
        bytes are set apart by changing it in between (see `send`)."""
        connect = self.bounds.connect_timeout
        return {"connect": connect, "read": first_byte, "write": read, "pool": connect}

    @property
    def aborted(self) -> bool:
        """Whether `abort` was called: requests from now on end ABORTED before they are sent."""
        return self.connections.aborted

    def abort(self) -> None:
        """Cut every request in flight now, and every later one before it is sent; each ends
        with `transport_error == ABORTED`."""
        self.connections.abort()

    def close(self) -> None:
        self.connections.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build(self, case: Case) -> SentRequest:
        """The exact request `case` stands for."""
        return build_request(self.target, self.op, case)

    def send(self, case: Case, stream_end: StreamEnd | None = None, widen: float = 1.0) -> Exchange:
        """Send `case` and read the whole response within the run's windows (times `widen`).

        `stream_end(event)` tells when a stream has delivered all it should; from then on it
        may stay open the grace window before it is cut (`LINGER`). A transport error on the
        suite's side is retried `SUITE_RETRIES` times.
        """
        exchange = self._send_once(case, stream_end, widen)
        for _ in range(SUITE_RETRIES):
            if exchange.transport_error is not Kind.SUITE or self.connections.aborted:
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
        parse: Callable[[], ReadBody] | None = None
        try:
            with (
                self.connections.watch(win.first_byte, Kind.DEADLINE, _first_byte(win)) as watchdog,
                watchdog.unless_aborted(),
                self.connections.http().stream(
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
                exchange.headers = flat_headers(response.headers)
                answer: Answer = "stream" if exchange.media_type == SSE else "json"
                self.latencies.record(answer, "first_byte", first_byte)
                if answer == "stream":
                    exchange.events = []
                    watchdog.rearm(
                        first_byte + win.stream_cap,
                        f"stream still open {win.stream_cap:g}s after its first byte",
                    )
                    ended = (stream_end, win.grace) if stream_end is not None else None
                    read_events(response, exchange, started, watchdog, self.bounds, ended)
                else:
                    watchdog.rearm(max(win.total, first_byte + win.read))
                    parse = read_body(response, watchdog, self.bounds)
                watchdog.raise_if_fired()
                self._measured(answer, watchdog, first_byte)
        except Cut as exc:
            exchange.transport_error, exchange.transport_detail = exc.kind, exc.detail
        except httpx.HTTPError as exc:
            exchange.transport_error, exchange.transport_detail = watchdog.classify(exc)
        exchange.elapsed_s = time.monotonic() - started
        if parse is not None:  # after the request's time: the gateway's answer is complete
            exchange.take(parse())
        return exchange

    def _measured(self, answer: Answer, watchdog: Watchdog, first_byte: float) -> None:
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
        left = win.total - (time.monotonic() - started)  # one bound for every hop of a fetch
        if left <= 0:
            detail = f"image not complete within {win.total:g}s, redirects included"
            return FetchResult(error=Kind.DEADLINE, detail=detail), None
        timeouts = self._timeouts(min(win.first_byte, left), win.read)
        try:
            with (
                self.connections.watch(left) as watchdog,
                watchdog.unless_aborted(),
                self.connections.http().stream(
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
                body = read_bytes(response, watchdog, self.bounds)
                watchdog.raise_if_fired()
                headers = flat_headers(response.headers)
                return FetchResult(response.status_code, headers, body), None
        except Cut as exc:
            return FetchResult(error=exc.kind, detail=exc.detail), None
        except httpx.HTTPError as exc:
            kind, detail = watchdog.classify(exc)
            return FetchResult(error=kind, detail=detail), None


def _first_byte(win: Windows) -> str:
    return f"no complete status line within the first-byte wait of {win.first_byte:g}s"
