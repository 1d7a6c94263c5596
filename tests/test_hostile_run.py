"""Whole runs against hostile gateways, in process: bounded, and nothing measured is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hostile import behaviours as hb
from hostile import serving
from hostile.server import Behaviour

from conformance.checks import registry
from conformance.checks.registry import ExchangeContext, Problem
from conformance.config import Bounds, RunConfig
from conformance.gate import decide
from conformance.model import Level, Status
from conformance.results import RunResult
from conformance.run import make_plan, run, send
from conformance.spec import Spec

SMALL = Bounds(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0, max_stream_s=1.0)
CRASH_ID = "TEST-CRASHES"


def test_silent_gateway_run_ends_within_its_deadline(spec: Spec) -> None:
    with serving(hb.silent) as server:
        config = RunConfig(
            spec=spec,
            base_url=server.url,
            bounds=SMALL,
            workers=2,
            max_duration=1.5,
            max_timeouts=1000,
        )
        make_plan(config)
        started = time.monotonic()
        result = run(config)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + SMALL.read_timeout + 3, f"run took {elapsed:.1f}s"
    assert result.incomplete and "deadline" in result.incomplete_reason
    responds = next(c for c in result.checks if c.check_id == "PROTO-RESPONDS")
    assert responds.status == Status.FAILED.value and responds.failed >= 1
    assert all("timeout" in f.message or "first-byte" in f.message for f in responds.failures)
    assert result.stats.requests == server.hits


@pytest.mark.parametrize("behaviour", [hb.silent, hb.trickled_headers], ids=["silent", "trickle"])
def test_gateway_hostile_on_every_route_cannot_hold_the_run(
    spec: Spec, behaviour: Behaviour
) -> None:
    with serving(behaviour, route="") as server:
        config = prebuilt(
            RunConfig(
                spec=spec,
                base_url=server.url,
                bounds=SMALL,
                max_requests=2,
                workers=2,
                shrink=False,
            )
        )
        started = time.monotonic()
        result = run(config)
    assert time.monotonic() - started < 2 * SMALL.total_timeout + 3
    responds = next(c for c in result.checks if c.check_id == "PROTO-RESPONDS")
    assert responds.failed == 2


def test_endless_streams_are_cut_and_reported(spec: Spec) -> None:
    with serving(hb.endless_sse) as server:
        bounds = Bounds(read_timeout=1.0, max_events=200, max_stream_s=2.0)
        config = RunConfig(
            spec=spec, base_url=server.url, bounds=bounds, max_requests=4, shrink=False
        )
        result = run(config)
    terminates = next(c for c in result.checks if c.check_id == "SSE-TERMINATES")
    assert terminates.status == Status.FAILED.value
    assert "stream-too-long" in terminates.failures[0].message
    assert len(terminates.failures[0].timeline) <= 200


def _rate_limited_run(
    spec: Spec, retry_after: str, requests: int, **config: Any
) -> tuple[RunResult, int, float]:
    """A run against a gateway that answers every request 429 with `retry_after`: its result,
    the requests the gateway served and the run's wall time."""
    with serving(hb.rate_limited(retry_after)) as server:
        settings = RunConfig(
            spec=spec,
            base_url=server.url,
            bounds=SMALL,
            workers=1,
            max_requests=requests,
            **config,
        )
        started = time.monotonic()
        result = run(settings)
        return result, server.hits, time.monotonic() - started


def test_429_is_retried_within_bound_and_reported_as_environment(spec: Spec) -> None:
    cases = 2
    result, hits, elapsed = _rate_limited_run(spec, "0.2", cases * (send.MAX_429_RETRIES + 1))
    assert hits == cases * (send.MAX_429_RETRIES + 1)
    assert elapsed >= cases * send.MAX_429_RETRIES * 0.2 - 0.05, "Retry-After was not honoured"
    assert [p.status for p in result.environment_problems] == [429] * cases
    assert not result.failing(), [c.check_id for c in result.failing()]
    assert all(c.cases_run == 0 for c in result.checks), "a 429 was judged as conformance"
    assert decide(result).verdict.value == "INCONCLUSIVE"


def test_retry_after_is_capped(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send, "MAX_RETRY_AFTER_S", 0.1)
    result, hits, elapsed = _rate_limited_run(spec, "3600", send.MAX_429_RETRIES + 1)
    assert elapsed < 10
    assert hits == send.MAX_429_RETRIES + 1
    assert len(result.environment_problems) == 1


def test_a_retry_after_wait_ends_at_the_run_deadline(spec: Spec) -> None:
    """A gateway that keeps answering 429 with Retry-After 10 s does not hold the run past
    --max-duration: the back-off waits on the run's stop, not only on Ctrl-C."""
    _, _, elapsed = _rate_limited_run(spec, "10", send.MAX_429_RETRIES + 1, max_duration=1.0)
    assert elapsed < 1.0 + 3.0


@pytest.fixture
def crashing_check() -> Iterator[str]:
    @registry.check(
        id=CRASH_ID,
        level=Level.MUST,
        statement="A check that always crashes.",
        pointer="responses",
        rationale="Exercises the runner's handling of a crashing check.",
    )
    def crashes(ctx: ExchangeContext) -> list[Problem] | None:
        raise RuntimeError("boom")

    try:
        yield CRASH_ID
    finally:
        del registry.REGISTRY[CRASH_ID]


def test_crashing_check_is_an_error_of_that_check_and_the_run_continues(
    spec: Spec, crashing_check: str
) -> None:
    with serving(hb.fixed(200, b"{}")) as server:
        config = RunConfig(
            spec=spec, base_url=server.url, bounds=SMALL, max_requests=5, shrink=False
        )
        result = run(config)
    checks = {c.check_id: c for c in result.checks}
    crashed = checks[crashing_check]
    assert crashed.status == Status.ERROR.value
    assert crashed.errors == result.stats.requests == server.hits == 5
    assert "RuntimeError: boom" in crashed.failures[0].message
    assert checks["PROTO-RESPONDS"].passed == 5
    assert not result.incomplete


def test_stop_cuts_requests_in_flight_without_blaming_the_gateway(spec: Spec) -> None:
    with serving(hb.slow(45.0)) as server:
        config = RunConfig(spec=spec, base_url=server.url, workers=2, shrink=False)

        def stop_once_busy() -> None:
            deadline = time.monotonic() + 20
            while server.hits < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            config.stop.set()

        stopper = threading.Thread(target=stop_once_busy, daemon=True)
        stopper.start()
        started = time.monotonic()
        result = run(config)
        stopped = time.monotonic() - started
        stopper.join(timeout=5)
    assert server.hits == 2 and stopped < 10, f"stop took {stopped:.1f}s"
    assert result.incomplete and "interrupted" in result.incomplete_reason
    assert not result.failing(), "a request cut by the stop was blamed on the gateway"


def prebuilt(config: RunConfig) -> RunConfig:
    make_plan(config)  # timings below measure the run, not the plan's generation
    return config


def test_unresponsive_gateway_costs_about_one_timeout(spec: Spec) -> None:
    with serving(hb.silent) as server:
        config = prebuilt(RunConfig(spec=spec, base_url=server.url, bounds=SMALL, workers=3))
        started = time.monotonic()
        result = run(config)
        elapsed = time.monotonic() - started
        hits = server.hits
    assert elapsed < SMALL.total_timeout + 3, f"a hung gateway held the run {elapsed:.1f}s"
    assert hits <= 2 * 3
    assert result.incomplete and "unresponsive" in result.incomplete_reason
    responds = next(c for c in result.checks if c.check_id == "PROTO-RESPONDS")
    assert responds.status == Status.FAILED.value
    assert decide(result).exit_code == 1


def test_max_timeouts_sets_the_wave(spec: Spec) -> None:
    with serving(hb.silent) as server:
        config = prebuilt(
            RunConfig(spec=spec, base_url=server.url, bounds=SMALL, workers=1, max_timeouts=3)
        )
        result = run(config)
        hits = server.hits
    assert 3 <= hits <= 4 and "3 requests in a row" in result.incomplete_reason


def test_max_duration_cuts_requests_in_flight(spec: Spec) -> None:
    with serving(hb.slow(45.0)) as server:
        config = prebuilt(
            RunConfig(spec=spec, base_url=server.url, workers=2, shrink=False, max_duration=1.0)
        )
        started = time.monotonic()
        result = run(config)
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 3, f"--max-duration 1 took {elapsed:.1f}s"
    assert result.incomplete and "deadline" in result.incomplete_reason
    assert not result.failing(), "a request cut by the deadline was blamed on the gateway"


def test_stop_cuts_an_image_fetch_in_flight(spec: Spec) -> None:
    behaviour = hb.by_path({"/img/": hb.silent}, hb.image_urls("{base}/img/1.png"))
    with serving(behaviour, route="") as server:
        config = prebuilt(RunConfig(spec=spec, base_url=server.url, workers=1, shrink=False))
        stopped_at: list[float] = []

        def stop_once_fetching() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if any("/img/" in r.path for r in list(server.requests)):
                    break
                time.sleep(0.05)
            stopped_at.append(time.monotonic())
            config.stop.set()

        stopper = threading.Thread(target=stop_once_fetching, daemon=True)
        stopper.start()
        result = run(config)
        ended = time.monotonic()
        stopper.join(timeout=5)
    assert stopped_at and ended - stopped_at[0] < 3, "the stop waited for an image fetch"
    assert result.incomplete and "interrupted" in result.incomplete_reason


def test_no_cookie_is_ever_sent_back(spec: Spec) -> None:
    with serving(hb.sets_cookie, route="") as server:
        config = RunConfig(spec=spec, base_url=server.url, workers=1, max_requests=4, shrink=False)
        run(config)
        sent = [r.headers for r in server.requests]
    assert len(sent) == 4 and not [h for h in sent if "cookie" in h]


def test_redirects_count_against_max_requests_and_are_capped(spec: Spec) -> None:
    behaviour = hb.by_path({"/hop": hb.redirect_loop}, hb.image_urls("{base}/hop/0"))
    with serving(behaviour, route="") as server:
        config = RunConfig(spec=spec, base_url=server.url, workers=1, max_requests=30, shrink=False)
        result = run(config)
        hops = [r for r in server.requests if "/hop" in r.path]
        hits = server.hits
    assert hits == result.stats.requests <= 30, "a redirect hop was not counted"
    assert hops, "no image URL was fetched"
    fetch = next(c for c in result.checks if c.check_id == "IMG-URL-FETCH")
    assert any("too-many-redirects" in f.message for f in fetch.failures), fetch.failures[:1]


def test_link_local_image_urls_are_reported_not_fetched(spec: Spec) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/"
    with serving(hb.image_urls(metadata)) as server:
        config = RunConfig(spec=spec, base_url=server.url, workers=1, max_requests=3, shrink=False)
        result = run(config)
    assert metadata in result.coverage.get("not_fetched", {}), result.coverage.keys()
    assert "link-local" in result.coverage["not_fetched"][metadata]
    fetch = next(c for c in result.checks if c.check_id == "IMG-URL-FETCH")
    assert not fetch.failures, "a URL the suite refused to fetch was judged"
