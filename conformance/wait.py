"""`--wait-for SECONDS`: wait for a gateway that is still starting (a CI job's `docker compose
up -d`), so the job needs no `sleep`.

The gateway is ready once it accepts a TCP connection and answers anything at all (any HTTP
status) to a GET on the image route: a listening proxy whose upstream is not wired yet often
resets or stalls instead. The GET generates nothing and carries no credentials.
"""

from __future__ import annotations

import ssl
import threading
import time

import httpx

from conformance.errors import TargetUnreachable

POLL_INTERVAL_S = 0.5


def wait_for_gateway(
    route_url: str,
    seconds: float,
    *,
    connect_timeout: float,
    stop: threading.Event | None = None,
    shown_url: str | None = None,
    verify: ssl.SSLContext | bool = True,
) -> float:
    """Poll `route_url` until it answers, for at most `seconds`; return how long it took.

    Raises `TargetUnreachable` (exit 3) with the last error when it never answers."""
    started = time.monotonic()
    deadline = started + seconds
    stop = stop or threading.Event()
    last = "no attempt made"
    with httpx.Client(follow_redirects=False, verify=verify) as http:
        while True:
            remaining = deadline - time.monotonic()
            timeout = max(0.1, min(connect_timeout, remaining))
            try:
                http.get(route_url, timeout=httpx.Timeout(timeout))
                return time.monotonic() - started
            except httpx.HTTPError as exc:
                last = f"{exc.__class__.__name__}: {exc}".rstrip(": ")
            if time.monotonic() + POLL_INTERVAL_S > deadline or stop.wait(POLL_INTERVAL_S):
                break
    raise TargetUnreachable(
        f"{shown_url or route_url} did not answer within {seconds:g}s (--wait-for); "
        f"last error: {last}"
    )
