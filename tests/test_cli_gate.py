"""The CI gate through the command line: baselines, `report` and `diff` on saved runs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "conformance.cli"]
FAULT, FAULT_CHECK = "one-based-index", "IMG-INDEX"


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def run_fault(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return conformance(
        "run", "--fault", FAULT, "--max-examples", "3", "--report-dir", str(out), *extra
    )


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faulty")
    done = run_fault(out, "--write-baseline", str(out / "baseline.toml"))
    assert done.returncode == 1, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    done = conformance("run", "--max-examples", "3", "--report-dir", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_written_baseline_turns_known_failures_into_exit_0(
    faulty_run: Path, tmp_path: Path
) -> None:
    baseline = (faulty_run / "baseline.toml").read_text()
    assert f'check_id = "{FAULT_CHECK}"' in baseline
    done = run_fault(tmp_path, "--baseline", str(faulty_run / "baseline.toml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"known failure (baseline): {FAULT_CHECK}" in done.stdout
    assert "CONFORMANT (1 known failure, see baseline; client side" in done.stdout
    junit = (tmp_path / "junit.xml").read_text()
    assert "<failure" not in junit and "known failure (baseline)" in junit


def test_new_failure_outside_the_baseline_exits_1(tmp_path: Path) -> None:
    other = tmp_path / "baseline.yaml"
    other.write_text("known_failure:\n  - check_id: IMG-COUNT\n    reason: ticket 12\n")
    done = run_fault(tmp_path, "--baseline", str(other))
    assert done.returncode == 1
    assert "NOT CONFORMANT (1 MUST; client side" in done.stdout and FAULT_CHECK in done.stdout
    assert "stale baseline entry (no longer failing): IMG-COUNT" in done.stdout


def test_expired_entry_counts_as_failure(tmp_path: Path) -> None:
    past = (date.today() - timedelta(days=1)).isoformat()
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        f'[[known_failure]]\ncheck_id = "{FAULT_CHECK}"\nreason = "x"\nexpires = {past}\n'
    )
    assert run_fault(tmp_path, "--baseline", str(baseline)).returncode == 1


def test_stale_entry_fails_only_with_strict_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text('[[known_failure]]\ncheck_id = "IMG-COUNT"\nreason = "fixed since"\n')
    args = (
        "run",
        "--budget",
        "smoke",
        "--checks",
        "IMG-COUNT",
        "--report-dir",
        str(tmp_path),
        "--baseline",
        str(baseline),
    )
    lenient = conformance(*args)
    assert lenient.returncode == 0
    assert "stale baseline entry (no longer failing): IMG-COUNT" in lenient.stdout
    assert conformance(*args, "--strict-baseline").returncode == 1


def test_malformed_baseline_is_a_one_line_usage_error(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text("[[known_failure]]\nreason = 'no id'\n")
    done = conformance("run", "--baseline", str(baseline), "--report-dir", str(tmp_path))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_report_rerenders_html_from_saved_results(faulty_run: Path, tmp_path: Path) -> None:
    done = conformance("report", str(faulty_run / "results.json"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "report.html").read_text()
    assert "NOT CONFORMANT" in html and FAULT_CHECK in html


def test_diff_shows_fixed_and_new_failures(faulty_run: Path, clean_run: Path) -> None:
    fixed = conformance("diff", str(faulty_run / "results.json"), str(clean_run / "results.json"))
    assert fixed.returncode == 0 and FAULT_CHECK in fixed.stdout
    regressed = conformance(
        "diff", str(clean_run / "results.json"), str(faulty_run / "results.json")
    )
    assert regressed.returncode == 1 and FAULT_CHECK in regressed.stdout


def test_unreadable_results_file_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "results.json"
    broken.write_text(json.dumps({"schema_version": "0.0"}))
    done = conformance("report", str(broken))
    assert done.returncode == 2 and "Traceback" not in done.stderr
