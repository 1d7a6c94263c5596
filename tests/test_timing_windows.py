"""The suite's windows scale with the latencies it measured; the watchdog cuts a request on a
reused connection too."""

from __future__ import annotations

import time

import httpx
import pytest

from conformance.client import Client
from conformance.config import Bounds, RunConfig, Target
from conformance.connections import Connections
from conformance.model import TransportErrorKind as Kind
from conformance.run import make_plan
from conformance.spec import Spec
from conformance.targets.latency import Latency, running_latency_proxy
from conformance.targets.server import running_gateway
from conformance.timing import SCALE, Latencies, floors


def test_windows_are_floors_until_latencies_exceed_them() -> None:
    bounds = Bounds(read_timeout=1.0, total_timeout=10.0, stream_grace_s=2.0)
    latencies = Latencies()
    assert latencies.windows(bounds, "stream") == floors(bounds)
    for gap in (0.5, 1.5, 1.4, 1.5, 1.2):
        latencies.record("stream", "gap", gap)
        latencies.record("stream", "end_lag", 2.5)
        latencies.record("stream", "first_byte", 35.0)
    win = latencies.windows(bounds, "stream")
    assert win.read == pytest.approx(SCALE * 1.5) and win.grace == pytest.approx(SCALE * 2.5)
    assert win.first_byte == bounds.total_timeout, "the first byte never waits past the deadline"
    latencies.record("stream", "duration", 40.0)
    assert latencies.windows(bounds, "stream").first_byte == pytest.approx(SCALE * 35.0)
    assert latencies.windows(bounds, "json") == floors(bounds), "JSON answers are measured apart"
    assert win.widened(2).grace == pytest.approx(2 * win.grace)


def test_a_request_on_a_reused_connection_is_cut_at_its_deadline(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = make_plan(RunConfig(spec=spec)).cases
    case = next(c for c in cases if c.expect == "success" and c.streamed(spec.operation))
    bounds = Bounds(read_timeout=30.0, total_timeout=30.0, max_stream_s=1.0)
    pooled = httpx.Client(limits=httpx.Limits(max_keepalive_connections=5), trust_env=False)
    monkeypatch.setattr(Connections, "http", lambda self: pooled)
    with (
        running_gateway(spec) as gateway,
        running_latency_proxy(gateway, Latency(event_gap_s=5.0)) as url,
    ):
        client = Client(Target(base_url=url), spec.operation, bounds)
        warm = client.fetch(url + "/")  # opens the connection the next request reuses
        assert warm.status is not None
        started = time.monotonic()
        exchange = client.send(case)
        elapsed = time.monotonic() - started
    pooled.close()
    assert elapsed < 4, f"the stalled stream held the request {elapsed:.1f}s"
    assert exchange.transport_error in (Kind.DEADLINE, Kind.LINGER)
