"""Every way a run can leave a MUST check unjudged ends INCOMPLETE (exit 4), never green, and
every run ends on its own or when told, with its result written: a cap, the run deadline, a
stop at each phase, a suite-side transport error the retries could not get past."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hostile import behaviours as hb
from hostile import serving

from conformance.client import Client
from conformance.config import Bounds, RunConfig
from conformance.errors import ExitCode
from conformance.gate import decide
from conformance.model import Case, Exchange
from conformance.model import TransportErrorKind as Kind
from conformance.report import write_reports
from conformance.results import RunResult
from conformance.run import make_plan, run, shrinking
from conformance.run import send as send_phase
from conformance.spec import Spec
from conformance.targets.server import running_gateway
from conformance.timing import run_deadline

SHORT = Bounds(connect_timeout=1.0, read_timeout=0.5, total_timeout=1.0, max_stream_s=1.0)


@pytest.fixture(scope="module")
def gateway(spec: Spec) -> Iterator[str]:
    with running_gateway(spec) as url:
        yield url


def kinds(result: RunResult) -> set[str]:
    return {c.unjudged_kind for c in result.checks if c.level == "MUST" and not c.cases_run}


def assert_incomplete(result: RunResult, tmp_path: Path, kind: str) -> None:
    gate = decide(result)
    assert gate.exit_code == ExitCode.INCOMPLETE, gate.headline
    assert kind in kinds(result) or result.incomplete, (kind, kinds(result))
    paths = write_reports(result, tmp_path)
    assert all(path.is_file() for path in paths.values())
    assert "INCOMPLETE" in paths["summary"].read_text()


def test_a_cap_that_leaves_must_checks_without_a_case_is_incomplete(
    spec: Spec, gateway: str, tmp_path: Path
) -> None:
    config = RunConfig(spec=spec, base_url=gateway, max_requests=2, shrink=False)
    plan = make_plan(config)
    assert plan.coverage["cut"]["must_checks_dropped"], "the cap dropped nothing: no proof"
    result = run(config)
    assert not result.failing()
    assert_incomplete(result, tmp_path, "cap")


def test_a_cap_keeps_one_case_per_must_check_first(spec: Spec) -> None:
    config = RunConfig(spec=spec, max_requests=40)
    plan = make_plan(config)
    assert plan.coverage["cut"]["must_checks_dropped"] == []


def test_the_default_deadline_comes_from_the_plan() -> None:
    bounds = Bounds(total_timeout=60, max_stream_s=60)
    assert run_deadline(300, bounds, 16) == 19 * 120 + 120 * 3 + 60
    assert run_deadline(5, SHORT, 1) < 40, "tiny bounds get a tiny margin"


def test_the_run_deadline_cuts_the_run_and_reports_it(
    spec: Spec, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(send_phase, "run_deadline", lambda *args: 1.0)
    with serving(hb.slow(5.0)) as server:
        config = RunConfig(spec=spec, base_url=server.url, bounds=Bounds(), workers=2)
        cases = make_plan(config).cases[:6]
        started = time.monotonic()
        result = run(config, cases=cases)
    assert time.monotonic() - started < 6, "the default deadline did not cut the run"
    assert "deadline of 1s" in result.incomplete_reason
    assert_incomplete(result, tmp_path, "deadline")


def stop_after(config: RunConfig, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, config.stop.set)
    timer.start()
    return timer


@pytest.mark.parametrize(
    "behaviour", [hb.endless_sse, hb.silent], ids=["endless-stream", "never-answers"]
)
def test_a_stop_while_sending_ends_the_run_within_seconds(
    spec: Spec, behaviour: Any, tmp_path: Path
) -> None:
    with serving(behaviour) as server:
        config = RunConfig(
            spec=spec, base_url=server.url, bounds=Bounds(), workers=2, max_timeouts=1000
        )
        cases = make_plan(config).cases[:8]
        stop_after(config, 1.0)
        started = time.monotonic()
        result = run(config, cases=cases)
    assert time.monotonic() - started < 5
    assert result.incomplete and "interrupted" in result.incomplete_reason
    assert decide(result).exit_code in (ExitCode.FAILED, ExitCode.INCOMPLETE)
    write_reports(result, tmp_path)


def stop_on_entry(config: RunConfig, func: Callable[..., Any]) -> Callable[..., Any]:
    def stopped(*args: Any, **kwargs: Any) -> Any:
        config.stop.set()
        return func(*args, **kwargs)

    return stopped


@pytest.mark.parametrize("phase", ["shrinking", "fetching"])
def test_a_stop_in_a_later_phase_ends_the_run_incomplete(
    spec: Spec, phase: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fault = "one-based-index" if phase == "shrinking" else None
    config = RunConfig(spec=spec, fault=fault, workers=2)
    if phase == "shrinking":
        original = shrinking.Shrinker.shrunk
        monkeypatch.setattr(shrinking.Shrinker, "shrunk", stop_on_entry(config, original))
    else:
        monkeypatch.setattr(
            send_phase.Sender, "fetch", stop_on_entry(config, send_phase.Sender.fetch)
        )
    started = time.monotonic()
    result = run(config)
    assert time.monotonic() - started < 60
    assert config.stop.is_set(), f"the run never reached the {phase} phase"
    assert result.incomplete and "interrupted" in result.incomplete_reason
    assert decide(result).exit_code in (ExitCode.FAILED, ExitCode.INCOMPLETE)
    write_reports(result, tmp_path)


def test_a_suite_side_error_is_retried_then_incomplete_never_failed(
    spec: Spec, gateway: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent: list[str] = []

    def broken(self: Client, case: Case, stream_end: Any, widen: float) -> Exchange:
        sent.append(case.id)
        exchange = Exchange(case=case, request=self.build(case))
        exchange.transport_error = Kind.SUITE
        exchange.transport_detail = (
            "transport error on the suite's side: [Errno 9] Bad file descriptor"
        )
        return exchange

    monkeypatch.setattr(Client, "_send_once", broken)
    config = RunConfig(spec=spec, base_url=gateway, checks=("SSE-TERMINATES",))
    case = next(c for c in make_plan(config).cases if c.streamed(spec.operation))
    result = run(config, cases=[case])
    assert len(sent) == 3, "a suite-side error is retried twice"
    assert not result.failing(), "the suite's own error was charged to the gateway"
    assert_incomplete(result, tmp_path, "suite-error")


def test_the_client_gives_each_thread_its_own_connection_pool(spec: Spec, gateway: str) -> None:
    from conformance.config import Target

    client = Client(Target(base_url=gateway), spec.operation)
    pools: list[object] = []
    threads = [
        threading.Thread(target=lambda: pools.append(client.connections.http())) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (
        len({id(p) for p in pools}) == 3 and client.connections.http() is client.connections.http()
    )
    client.close()


def test_a_narrowed_or_smoke_run_names_why_checks_were_not_run(spec: Spec) -> None:
    from conformance.checks.registry import catalogue
    from conformance.results import CheckResult
    from conformance.unjudged import Absent, Outcomes, Setup, mark_unjudged

    checks = [c for c in catalogue() if c.id == "SSE-PARITY"]
    fresh = {"SSE-PARITY": CheckResult("SSE-PARITY", "MUST", "", "", "sse")}
    mark_unjudged(
        fresh, checks, spec.operation, [], Absent(), Outcomes(), Setup(False, False, budget="smoke")
    )
    assert fresh["SSE-PARITY"].unjudged_kind == "budget"
    narrowed = replace(Setup(False, False), narrowed=("stream=false",))
    mark_unjudged(fresh, checks, spec.operation, [], Absent(), Outcomes(), narrowed)
    assert fresh["SSE-PARITY"].unjudged_kind == "narrowed"


def handles_sigterm(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGTERM (Linux: SigCgt in /proc)."""
    import signal

    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt")), "0")
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


@pytest.mark.parametrize("after_s", [0.0, 3.0], ids=["while-planning", "while-sending"])
def test_sigterm_at_any_phase_writes_incomplete_reports(tmp_path: Path, after_s: float) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys

    with serving(hb.endless_sse) as server:
        command = [sys.executable, "-m", "conformance.cli", "run", "--base-url", server.url]
        command += ["--report-dir", str(tmp_path), "--workers", "2", "-q"]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            caught = time.monotonic() + 60
            while not handles_sigterm(proc.pid) and time.monotonic() < caught:
                time.sleep(0.02)  # the CLI's handler is in place: from here on it must hold
            time.sleep(after_s)
            proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            out, err = proc.communicate(timeout=60)
            waited = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    assert proc.returncode in (1, 4), out + err
    assert waited < 30, f"the run took {waited:.1f}s to stop"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["incomplete"] is True and results["gate"]["exit_code"] == proc.returncode
