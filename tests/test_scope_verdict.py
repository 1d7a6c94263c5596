"""Scope and INCOMPLETE: the verdict line, summary.md, junit.xml and results.json say the same
thing as the exit code (hand-built results: no run needed)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_report_samples import make_check

from conformance.errors import ExitCode
from conformance.gate import Disposition, decide
from conformance.model import Status, Verdict
from conformance.report import write_reports
from conformance.report.jsonreport import load_results, schema_errors
from conformance.results import CheckResult, RunResult, Stats

TWO_SIDED = ("FWD-FIELDS", "FWD-PROMPT", "UPSTREAM-CALLS")


def unjudged(
    check_id: str, level: str, kind: str, reason: str, family: str = "body"
) -> CheckResult:
    check = make_check(check_id, level, Status.SKIPPED.value, family=family)
    check.unjudged_kind, check.unjudged_reason = kind, reason
    return check


def result(*checks: CheckResult, required: tuple[str, ...] = (), incomplete: str = "") -> RunResult:
    return RunResult(
        suite_version="0",
        target="http://127.0.0.1:9",
        spec_title="t",
        spec_source="s",
        spec_sha256="ab" * 32,
        operation="POST /x",
        seed=0,
        started_at="2026-12-07T00:00:00+00:00",
        stats=Stats(requests=3),
        checks=list(checks),
        incomplete=bool(incomplete),
        incomplete_reason=incomplete,
        required=list(required),
    )


def client_side(*extra: CheckResult, required: tuple[str, ...] = ()) -> RunResult:
    passed = make_check("IMG-COUNT", "MUST", Status.PASSED.value)
    two_sided = [
        unjudged(i, "MUST", "two-sided", "add --upstream", "forwarding") for i in TWO_SIDED
    ]
    return result(passed, *two_sided, *extra, required=required)


def reports(run: RunResult, tmp_path: Path) -> tuple[dict[str, object], str, ET.Element]:
    paths = write_reports(run, tmp_path)
    document = json.loads(paths["json"].read_text())
    root = ET.parse(paths["junit"]).getroot()
    return document, paths["summary"].read_text(), root


def test_a_client_side_run_names_its_scope_everywhere(tmp_path: Path) -> None:
    gate = decide(client_side())
    assert gate.verdict is Verdict.CONFORMANT and gate.exit_code == ExitCode.OK
    line = "client side; 3 two-sided MUST checks not run: add --upstream"
    assert gate.headline == f"CONFORMANT ({line})"
    document, summary, junit = reports(client_side(), tmp_path)
    assert not schema_errors(document)
    assert document["gate"]["scope"]["line"] == line
    assert document["gate"]["scope"]["out_of_scope"][0]["checks"] == list(TWO_SIDED)
    assert line in summary
    skipped = {
        c.get("name"): c.find("skipped")
        for c in junit.iter("testcase")
        if c.find("skipped") is not None
    }
    assert all("add --upstream" in (skipped[f"{i} [MUST]"].get("message") or "") for i in TWO_SIDED)
    assert junit.get("failures") == "0" and junit.get("errors") == "0"
    html = (tmp_path / "report.html").read_text()
    assert 'id="verdict-scope"' in html and "add --upstream" in html


def test_require_turns_out_of_scope_into_incomplete(tmp_path: Path) -> None:
    run = client_side(required=("two-sided",))
    gate = decide(run)
    assert gate.verdict is Verdict.INCOMPLETE and gate.exit_code == ExitCode.INCOMPLETE == 4
    assert all(gate.dispositions[i] is Disposition.UNJUDGED for i in TWO_SIDED)
    assert any("required" in r for r in gate.reasons)
    document, summary, junit = reports(run, tmp_path)
    assert document["gate"]["exit_code"] == 4 and document["verdict"] == "INCOMPLETE"
    assert summary.startswith("## Gateway conformance: INCOMPLETE")
    assert junit.get("errors") == str(len(TWO_SIDED)), "the panel must not look green"
    # One check ID is enough to require it, and it alone.
    one = decide(client_side(required=("FWD-PROMPT",)))
    assert one.exit_code == 4 and one.scope.unjudged_ids == {"FWD-PROMPT"}


@pytest.mark.parametrize(
    "kind",
    ["cap", "deadline", "budget", "interrupted", "suite-error", "document", "no-answer"],
)
def test_a_must_check_left_unjudged_is_incomplete_not_a_pass(kind: str, tmp_path: Path) -> None:
    run = result(
        make_check("IMG-COUNT", "MUST", Status.PASSED.value),
        unjudged("SSE-SEQUENCE", "MUST", kind, f"because {kind}"),
    )
    gate = decide(run)
    assert gate.verdict is Verdict.INCOMPLETE and int(gate.exit_code) == 4
    assert f"SSE-SEQUENCE not judged: because {kind}" in gate.headline
    document, summary, junit = reports(run, tmp_path)
    assert document["gate"]["exit_code"] == 4 and "INCOMPLETE" in summary
    error = next(c for c in junit.iter("testcase") if c.get("name") == "SSE-SEQUENCE [MUST]")
    assert error.find("error") is not None
    # The saved result says the same when read back.
    assert decide(load_results(tmp_path / "results.json")).headline == gate.headline


def test_failures_win_over_incomplete_and_should_gaps_do_not_count() -> None:
    failing = make_check("IMG-COUNT", "MUST", Status.FAILED.value, failures=1)
    gap = unjudged("SSE-SEQUENCE", "MUST", "cap", "request cap")
    gate = decide(result(failing, gap))
    assert gate.verdict is Verdict.NOT_CONFORMANT and gate.exit_code == ExitCode.FAILED
    assert "SSE-SEQUENCE not judged" in gate.headline
    should = unjudged("IMG-URL-FETCH", "SHOULD", "cap", "request cap")
    passed = make_check("IMG-COUNT", "MUST", Status.PASSED.value)
    assert decide(result(passed, should)).exit_code == ExitCode.OK


def test_a_stopped_run_is_incomplete_even_when_every_must_check_was_judged() -> None:
    passed = make_check("IMG-COUNT", "MUST", Status.PASSED.value)
    gate = decide(result(passed, incomplete="interrupted: reports hold what was measured"))
    assert gate.verdict is Verdict.INCOMPLETE and gate.exit_code == 4
    assert any(r.startswith("incomplete: interrupted") for r in gate.reasons)


def test_require_is_read_from_the_settings_file_and_checked(tmp_path: Path) -> None:
    from conformance.config import run_config
    from conformance.configfile import settings
    from conformance.errors import UsageError

    path = tmp_path / "conformance.toml"
    path.write_text('require = ["two-sided", "SDK-COMPAT"]\n')
    assert run_config(settings(path)).required == ("two-sided", "SDK-COMPAT")
    with pytest.raises(UsageError, match="(?i)--require 'everything'"):
        run_config({"require": ["everything"]})
