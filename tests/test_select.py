"""--checks / --exclude-checks: only the chosen checks are judged, only their cases are sent."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_cost_guard import Counter, counting_gateway  # noqa: F401 - the fixture

from conformance.checks.registry import REGISTRY, catalogue
from conformance.config import RunConfig, run_config
from conformance.errors import UsageError
from conformance.gate import decide
from conformance.model import Status
from conformance.run import make_plan, run
from conformance.select import check_ids, select_checks
from conformance.spec import Spec

# One fault per kind of declared applicability: a run limited to the fault's check must still
# send the case that shows it (a too-narrow plan would pass falsely).
NARROWED_FAULTS = {
    "n-capped-at-four": "IMG-COUNT",  # json
    "sequence-restarts-per-image": "SSE-SEQUENCE",  # stream
    "portrait-streams-single-image": "SSE-PARITY",  # parity (run scope)
    "fractional-n-truncated": "ERR-NEGATIVE-4XX",  # negative
    "unknown-fields-rejected": "ERR-UNKNOWN-FIELDS-ACCEPTED",  # unknown-fields
    "empty-prompt-502": "ERR-EMPTY-PROMPT",  # empty-prompt
    "api-version-required": "ERR-VALID-ACCEPTED",  # valid
    "422-for-enum-violations": "PROTO-STATUS-DOCUMENTED",  # every case
    "fwd-tidies-prompt": "FWD-PROMPT",  # upstream (two-sided cases)
}


def test_unknown_check_is_a_usage_error_with_the_closest_match() -> None:
    with pytest.raises(UsageError, match=r"unknown check 'IMG-CONT'.*did you mean IMG-COUNT"):
        run_config({"checks": ["IMG-CONT"]})
    with pytest.raises(
        UsageError, match=r"--exclude-checks: unknown check 'SSE-PARTY'.*SSE-PARITY"
    ):
        run_config({"exclude_checks": ["SSE-PARTY"]})
    with pytest.raises(UsageError, match="no check"):
        select_checks(catalogue(), ("IMG-COUNT",), ("IMG-COUNT",))


def test_ids_split_on_commas_and_repeat() -> None:
    assert check_ids(["IMG-COUNT, SSE-PARITY", "IMG-COUNT", "ERR-MESSAGE"]) == (
        "IMG-COUNT",
        "SSE-PARITY",
        "ERR-MESSAGE",
    )


def test_selection_sends_fewer_requests_and_reports_only_the_chosen_checks(
    counting_gateway: Counter,  # noqa: F811
    spec: Spec,
) -> None:
    full_plan = make_plan(RunConfig(spec=spec)).cases  # a full run sends at least these
    chosen = ("ERR-EMPTY-PROMPT", "SSE-SEQUENCE")
    result = run(RunConfig(spec=spec, base_url=counting_gateway.url, checks=chosen))
    sent = len([r for r in counting_gateway.requests if not r.startswith("HEAD")])
    assert result.stats.requests == sent
    assert 0 < sent < len(full_plan) / 4, (sent, len(full_plan))
    assert [c.check_id for c in result.checks] == sorted(chosen, key=lambda i: REGISTRY[i].family)
    assert all(c.status == Status.PASSED for c in result.checks)
    assert set(decide(result).dispositions) == set(chosen)
    assert result.coverage["selection"]["kept"] == result.stats.cases < len(full_plan)


def test_the_request_cap_counts_the_selected_cases_only(spec: Spec) -> None:
    chosen = ("SSE-SEQUENCE",)
    selected = make_plan(RunConfig(spec=spec, checks=chosen)).cases
    assert len(selected) > 4
    capped = make_plan(RunConfig(spec=spec, checks=chosen, max_requests=4))
    # The cap applies to the cases the selection keeps, not to the whole plan before it.
    assert len(capped.cases) == 4
    assert {c.id for c in capped.cases} <= {c.id for c in selected}
    assert capped.coverage["cut"]["planned"] == len(selected)
    assert capped.coverage["selection"]["kept"] == len(selected)
    assert capped.coverage["selection"]["checks"] == list(chosen)


def test_excluded_checks_are_absent_and_do_not_gate(spec: Spec) -> None:
    config = run_config({"fault": "n-capped-at-four", "exclude_checks": ["IMG-COUNT"]})
    result = run(config)
    assert "IMG-COUNT" not in {c.check_id for c in result.checks}
    assert not decide(result).failed, decide(result).headline
    assert len(make_plan(config).cases) == len(make_plan(run_config({})).cases)


@pytest.mark.parametrize(("fault", "check_id"), sorted(NARROWED_FAULTS.items()))
def test_a_narrowed_run_still_finds_the_fault(fault: str, check_id: str) -> None:
    result = run(run_config({"fault": fault, "checks": [check_id], "max_examples": 2}))
    (check,) = result.checks
    assert check.check_id == check_id
    assert check.status == Status.FAILED, (fault, check.status, check.cases_run)
    assert decide(result).failed == (check.level == "MUST")


def test_a_wrong_declaration_is_an_error_of_the_check(
    spec: Spec, gateway_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that judges a case outside its `applies_to` fails the gate as an error: a run
    limited to it would not have sent that case. (PROTO-NO-5XX sends the positive cases
    IMG-COUNT judges; the smoke plan holds enough of them.)"""
    wrong = replace(REGISTRY["IMG-COUNT"], applies_to=("negative",))
    monkeypatch.setitem(REGISTRY, "IMG-COUNT", wrong)
    config = RunConfig(
        spec=spec, base_url=gateway_url, checks=("IMG-COUNT", "PROTO-NO-5XX"), budget="smoke"
    )
    result = run(config)
    count = next(c for c in result.checks if c.check_id == "IMG-COUNT")
    assert count.errors and count.status == Status.ERROR
    assert "declared applies_to" in count.failures[0].message
    assert decide(result).failed


def test_only_selected_below_must_is_judged_by_what_was_selected(spec: Spec) -> None:
    result = run(RunConfig(spec=spec, checks=("IMG-CREATED-PRESENT",), max_examples=1))
    assert decide(result).verdict.value == "CONFORMANT", decide(result).headline
    assert not decide(result).failed


def test_dry_run_list_prints_every_case_and_writes_plan_json(
    counting_gateway: Counter,  # noqa: F811
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--base-url",
            counting_gateway.url,
            "--dry-run",
            "--list",
            "--checks",
            "SSE-PARITY,ERR-EMPTY-PROMPT",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert counting_gateway.requests == []
    plan = json.loads((tmp_path / "plan.json").read_text())
    ids = [c["id"] for c in plan["cases"]]
    assert "empty-prompt" in ids and any(i.startswith("parity-") for i in ids)
    assert plan["summary"]["requests"] == len(ids)
    lines = done.stdout.splitlines()
    for case in plan["cases"]:
        line = next(li for li in lines if li.startswith(case["id"] + " "))
        assert case["kind"] in line and json.dumps(case["body"], separators=(",", ":"))[:40] in line


NOT_APPLICABLE_TO_OPENAI = ["ERR-ENVELOPE-SCHEMA", "SSE-NO-ERROR-EVENT"]
"""MUST checks whose subject OpenAI's document does not declare (no 400 body, no error event)."""


def test_a_check_not_applicable_to_the_document_adds_no_case() -> None:
    alone = make_plan(run_config({"spec": "openai", "checks": ["ERR-NEGATIVE-4XX"]}))
    mixed = run_config(
        {"spec": "openai", "checks": ["ERR-NEGATIVE-4XX", *NOT_APPLICABLE_TO_OPENAI]}
    )
    assert alone.cases and [c.id for c in make_plan(mixed).cases] == [c.id for c in alone.cases]
    assert make_plan(mixed).coverage["selection"]["not_planned"]["checks"] == sorted(
        NOT_APPLICABLE_TO_OPENAI
    )


def test_a_selection_of_checks_not_applicable_sends_nothing_and_names_them() -> None:
    """Nothing would judge their answers, so nothing is planned or sent for them (no case, no
    two-sided case, no SDK probe): the dry run says so, and the run names them not applicable."""
    from conformance.results import NOT_APPLICABLE_KIND
    from conformance.run import dry_run_summary

    config = run_config({"spec": "openai", "checks": NOT_APPLICABLE_TO_OPENAI})
    summary = dry_run_summary(config)
    assert summary["requests_estimate"] == 0, summary["requests_by_source"]
    assert summary["not_planned"]["checks"] == sorted(NOT_APPLICABLE_TO_OPENAI)
    assert sorted(summary["not_applicable"]) == sorted(NOT_APPLICABLE_TO_OPENAI)
    result = run(config)
    assert result.stats.requests == 0 and result.stats.cases == 0
    assert {c.check_id: c.unjudged_kind for c in result.checks} == dict.fromkeys(
        NOT_APPLICABLE_TO_OPENAI, NOT_APPLICABLE_KIND
    )
    gate = decide(result)
    foreseen = summary["verdict_if_conforming"]
    assert (gate.verdict.value, int(gate.exit_code)) == ("INCONCLUSIVE", 2)
    assert (foreseen["verdict"], foreseen["exit_code"]) == ("INCONCLUSIVE", 2)
    assert "not applicable to the document" in gate.reasons[0], gate.reasons
