"""`conformance replay`: a saved run's failing requests sent again and judged again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.model import Status
from conformance.report.jsonreport import load_results
from conformance.spec import Spec
from conformance.targets.server import running_gateway

SECRET = "vk-replay-secret-4711"
FAULT = "n-capped-at-four"


@pytest.fixture
def faulty_url(spec: Spec) -> Iterator[str]:
    with running_gateway(spec, fault=FAULT) as url:
        yield url


@pytest.fixture
def saved(faulty_url: str, tmp_path: Path) -> Path:
    """A run limited to two checks, one of which fails, saved with a secret header."""
    code = main(
        [
            "run",
            "--base-url",
            faulty_url,
            "--checks",
            "IMG-COUNT,ERR-EMPTY-PROMPT",
            "--header",
            f"x-bf-vk: {SECRET}",
            "--max-examples",
            "2",
            "--report-dir",
            str(tmp_path / "run"),
            "-q",
        ]
    )
    assert code == 1
    return tmp_path / "run" / "results.json"


def test_replay_sends_the_failing_requests_and_judges_them_again(
    saved: Path,
    faulty_url: str,
    gateway_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = load_results(saved)
    assert SECRET not in saved.read_text()
    failing = {f.case_id for c in before.checks for f in c.failures}
    header = ["--header", f"x-bf-vk: {SECRET}"]

    # The redacted header must be given again.
    assert main(["replay", str(saved), "--report-dir", str(tmp_path / "r0")]) == 2
    assert "x-bf-vk" in capsys.readouterr().err

    # Against the same faulty gateway (its saved target): the same check fails again.
    out = tmp_path / "again"
    assert main(["replay", str(saved), *header, "--report-dir", str(out), "-q"]) == 1
    again = load_results(out / "results.json")
    assert [c.check_id for c in again.checks] == ["IMG-COUNT"]
    assert again.checks[0].status == Status.FAILED
    assert again.stats.requests >= len(failing) and again.stats.cases == len(failing)
    assert {f.case_id for f in again.checks[0].failures} == failing

    # One case, against a fixed (clean) gateway: it passes now, exit 0.
    case = sorted(failing)[0]
    fixed = tmp_path / "fixed"
    code = main(
        ["replay", str(saved), "--case", case, "--base-url", gateway_url, *header]
        + ["--report-dir", str(fixed), "-q"]
    )
    assert code == 0
    result = json.loads((fixed / "results.json").read_text())
    assert result["coverage"]["replay"]["cases"] == [case]
    assert result["checks"][0]["status"] == "passed"

    # An unknown case names the failing ones.
    assert main(["replay", str(saved), "--case", "nope", *header]) == 2
    assert case in capsys.readouterr().err


def test_replay_of_a_parity_failure_brings_its_json_partner(spec: Spec, tmp_path: Path) -> None:
    with running_gateway(spec, fault="portrait-streams-single-image") as url:
        run_dir = tmp_path / "run"
        args = ["--checks", "SSE-PARITY", "-q"]
        assert main(["run", "--base-url", url, *args, "--report-dir", str(run_dir)]) == 1
        out = tmp_path / "replay"
        assert main(["replay", str(run_dir / "results.json"), "--report-dir", str(out), "-q"]) == 1
    again = load_results(out / "results.json")
    assert again.checks[0].check_id == "SSE-PARITY" and again.checks[0].status == Status.FAILED
    assert any(i.endswith("~json") for i in again.coverage["replay"]["cases"])


def test_replay_of_an_embedded_run_starts_the_same_embedded_target(tmp_path: Path) -> None:
    """The saved run's loopback port is gone: the replay starts the reference gateway again,
    with the same fault, and presents the suite's own key (no --api-key needed)."""
    argv = ["run", "--fault", FAULT, "--checks", "IMG-COUNT", "--max-examples", "2", "-q"]
    assert main([*argv, "--report-dir", str(tmp_path / "run")]) == 1
    saved = tmp_path / "run" / "results.json"
    assert load_results(saved).coverage["embedded_target"] == {"fault": FAULT}
    out = tmp_path / "again"
    assert main(["replay", str(saved), "--report-dir", str(out), "-q"]) == 1
    again = load_results(out / "results.json")
    assert [(c.check_id, c.status) for c in again.checks] == [("IMG-COUNT", Status.FAILED)]
    assert again.coverage["embedded_target"] == {"fault": FAULT}
