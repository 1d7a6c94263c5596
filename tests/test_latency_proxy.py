"""A conforming gateway that is slow, jittery or paced is never NOT CONFORMANT.

The reference gateway behind the latency proxy (`conformance.targets.latency`): answers come
late and with jitter, stream events come apart and the stream closes late. The fast tests scale
the suite's windows (their floors) down below the proxy's latencies, so only the windows that
scale with the measured latencies, and the timing re-send, keep the run green; the slow ones use
a provider's real latencies and the default windows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from conformance.config import Bounds, RunConfig
from conformance.gate import decide
from conformance.model import Case
from conformance.results import RunResult
from conformance.run import make_plan, run
from conformance.spec import Spec
from conformance.targets.latency import Latency, running_latency_proxy
from conformance.targets.server import running_gateway

CHECKS = (
    "PROTO-RESPONDS",
    "PROTO-NO-5XX",
    "IMG-COUNT",
    "SSE-TERMINATES",
    "SSE-COMPLETED-COUNT",
    "SSE-NOTHING-AFTER-END",
    "ERR-NEGATIVE-4XX",
)


@pytest.fixture(scope="module")
def gateway(spec: Spec) -> Iterator[str]:
    with running_gateway(spec) as url:
        yield url


def few_cases(config: RunConfig, streams: int, answers: int) -> list[Case]:
    """A small plan: some streamed cases, some JSON ones, two negatives."""
    op = config.spec.operation
    cases = make_plan(config).cases
    valid = [c for c in cases if c.expect == "success" and c.requested_n(op) <= 2]
    streamed = [c for c in valid if c.streamed(op)][:streams]
    plain = [c for c in valid if not c.streamed(op)][:answers]
    return [*[c for c in cases if c.expect == "reject"][:2], *streamed, *plain]


def behind_proxy(
    spec: Spec, gateway: str, latency: Latency, bounds: Bounds, streams: int, answers: int
) -> RunResult:
    base = RunConfig(spec=spec, checks=CHECKS, shrink=False, workers=4, bounds=bounds)
    with running_latency_proxy(gateway, latency) as url:
        config = replace(base, base_url=url)
        return run(config, cases=few_cases(base, streams, answers))


def assert_no_false_failure(result: RunResult) -> None:
    failing = {c.check_id: c.failures[0].message for c in result.checks if c.failures}
    assert not failing, failing
    gate = decide(result)
    assert gate.exit_code == 0, gate.headline + " / " + "; ".join(gate.reasons)


def test_paced_stream_that_closes_late_passes_with_scaled_windows(spec: Spec, gateway: str) -> None:
    # Read and grace floors well below the proxy's pace: fixed windows would cut these streams.
    # (The first byte waits 2s: before any answer was measured, a request that gets no
    # status line in time is not re-sent, or a silent gateway would cost every request twice.)
    tight = Bounds(
        connect_timeout=2.0,
        read_timeout=0.2,
        total_timeout=2.0,
        max_stream_s=2.0,
        stream_grace_s=0.1,
        first_byte_timeout=2.0,
    )
    latency = Latency(delay_s=0.2, jitter_s=0.15, event_gap_s=0.3, close_after_s=0.45, seed=7)
    result = behind_proxy(spec, gateway, latency, tight, streams=4, answers=4)
    assert_no_false_failure(result)
    # The first streams met the floors: they were re-sent with wider windows, and said so.
    assert result.coverage.get("timing_retries"), "the floors never cut anything: no proof"


def test_fixed_delay_and_jitter_pass_with_the_read_timeout_apart(spec: Spec, gateway: str) -> None:
    # The read timeout between bytes (0.1s) is shorter than the wait for the first byte.
    tight = Bounds(connect_timeout=2.0, read_timeout=0.1, total_timeout=2.0)
    latency = Latency(delay_s=0.25, jitter_s=0.2, seed=3)
    assert_no_false_failure(behind_proxy(spec, gateway, latency, tight, streams=1, answers=6))


@pytest.mark.slow
def test_a_provider_5s_per_answer_with_events_1_5s_apart_passes(spec: Spec, gateway: str) -> None:
    latency = Latency(delay_s=2.0, jitter_s=3.0, event_gap_s=1.5, close_after_s=2.5, seed=11)
    result = behind_proxy(spec, gateway, latency, Bounds(), streams=4, answers=4)
    assert_no_false_failure(result)


@pytest.mark.slow
def test_a_provider_35s_per_image_passes(spec: Spec, gateway: str) -> None:
    latency = Latency(delay_s=35.0, seed=5)
    assert_no_false_failure(behind_proxy(spec, gateway, latency, Bounds(), streams=1, answers=1))


def test_the_proxy_forwards_the_path_as_sent(spec: Spec, gateway: str) -> None:
    # A deployment with an escaped slash, space and percent must reach the gateway escaped.
    base = RunConfig(spec=spec, checks=("ERR-VALID-ACCEPTED",), shrink=False)
    escaped = [c for c in make_plan(base).cases if c.id.startswith("deployment-escaped")]
    assert escaped, "the plan has no escaped deployment: no proof"
    with running_latency_proxy(gateway, Latency()) as url:
        result = run(replace(base, base_url=url), cases=escaped)
    assert_no_false_failure(result)
