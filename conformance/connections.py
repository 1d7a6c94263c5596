"""The HTTP clients of a `Client`, one per worker thread, and the requests in flight.

Each worker thread sends through an HTTP client of its own, one connection per request: a
connection pool shared between threads can close a connection that has just gone idle while
another thread reads from it (encode/httpcore#1110: "Bad file descriptor", charged to no one),
and a watchdog that knows every request's socket can cut any request at its deadline, or all
of them at once when the run is stopped.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import threading
from collections.abc import Iterator

import httpx

from conformance.config import Bounds, tls_verify
from conformance.model import TransportErrorKind as Kind
from conformance.watchdog import Watchdog


class Connections:
    """This thread's HTTP client, and the watchdog of every request in flight."""

    def __init__(self, bounds: Bounds, ca_bundle: str | None) -> None:
        self.bounds = bounds
        self.ca_bundle = ca_bundle
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._in_flight: set[Watchdog] = set()
        self._in_flight_lock = threading.Lock()
        self.aborted = False

    def http(self) -> httpx.Client:
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
                verify=tls_verify(self.ca_bundle),
            )
            del client.headers["accept"]  # each request says its own (a case may send none)
            with self._in_flight_lock:
                self._clients.append(client)
            self._local.http = client
        return client

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
    def watch(
        self, limit: float, kind: Kind = Kind.DEADLINE, reason: str | None = None
    ) -> Iterator[Watchdog]:
        watchdog = Watchdog(limit, kind, reason)
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


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that stores nothing: every request stands alone, whatever Set-Cookie says."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
