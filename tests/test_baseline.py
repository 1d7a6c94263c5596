"""Baselines: known failures pass the gate, new or expired ones fail it, stale ones are named."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest
from test_report_samples import sample_result

from conformance.errors import BaselineError
from conformance.gate import Disposition, Gate, decide
from conformance.report.baseline import load_baseline, toml_string, write_baseline
from conformance.report.jsonreport import results_document
from conformance.results import Baseline, BaselineEntry, RunResult

TODAY = date(2025, 6, 1)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text, "utf-8")
    return path


def test_load_reads_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[known_failure]]\ncheck_id = "IMG-COUNT"\nreason = "GW-1"\nexpires = 2025-07-01\n\n'
        '[[known_failure]]\ncheck_id = "SSE-SEQUENCE"\nexpires = "2025-05-01"\n',
    )
    baseline = load_baseline(path)
    assert baseline.entries == (
        BaselineEntry("IMG-COUNT", "GW-1", date(2025, 7, 1)),
        BaselineEntry("SSE-SEQUENCE", "", date(2025, 5, 1)),
    )


@pytest.mark.parametrize(
    "text",
    [
        "[[known_failure]]\nreason = 'no id'\n",
        "[[known_failure]]\ncheck_id = 'A-B'\nexpires = 'soon'\n",
        "[[known_failure]]\ncheck_id = 'A-B'\nexpires = 2025-01-01T10:00:00\n",
        "[[known_failure]]\ncheck_id = 'A-B'\ncolour = 'red'\n",
        "[[known_failure]]\ncheck_id = 'A-B'\n[[known_failure]]\ncheck_id = 'A-B'\n",
        "known_failure = 'x'\n",
        "other = 1\n",
        "not toml at all [",
    ],
)
def test_load_rejects_malformed_files(tmp_path: Path, text: str) -> None:
    with pytest.raises(BaselineError):
        load_baseline(write(tmp_path, text))


def judged(result: RunResult, baseline: Baseline) -> Gate:
    result.baseline = baseline
    return decide(result, today=TODAY)


def test_known_failures_pass_the_gate() -> None:
    baseline = Baseline((BaselineEntry("IMG-COUNT", "GW-1", date(2025, 6, 1)),))
    gate = judged(sample_result(errored=False), baseline)
    assert [e.check_id for e in gate.known] == ["IMG-COUNT"]
    assert gate.expired == () and gate.stale == ()
    assert gate.dispositions["IMG-COUNT"] is Disposition.KNOWN
    assert gate.exit_code == 0
    assert "1 known failure, see baseline" in gate.headline


def test_new_failure_fails_the_gate() -> None:
    gate = judged(sample_result(errored=False), Baseline())
    assert gate.dispositions["IMG-COUNT"] is Disposition.FAILS_GATE
    assert gate.dispositions["IMG-CREATED-PRESENT"] is Disposition.WARNING  # SHOULD: warns
    assert gate.exit_code == 1
    assert gate.headline.startswith("NOT CONFORMANT (1 MUST")


def test_strict_runs_gate_on_should_failures_too() -> None:
    result = sample_result()
    result.strict = True
    gate = judged(result, Baseline((BaselineEntry("IMG-COUNT"),)))
    assert gate.dispositions["IMG-CREATED-PRESENT"] is Disposition.FAILS_GATE
    assert gate.exit_code == 1


def test_expired_entries_count_as_failures() -> None:
    baseline = Baseline((BaselineEntry("IMG-COUNT", "GW-1", date(2025, 5, 31)),))
    gate = judged(sample_result(errored=False), baseline)
    assert [e.check_id for e in gate.expired] == ["IMG-COUNT"]
    assert gate.known == () and gate.dispositions["IMG-COUNT"] is Disposition.FAILS_GATE
    assert gate.exit_code == 1


def test_stale_entries_fail_only_a_strict_baseline() -> None:
    entries = (BaselineEntry("PROTO-RESPONDS"), BaselineEntry("IMG-COUNT"))
    gate = judged(sample_result(errored=False), Baseline(entries))
    assert [e.check_id for e in gate.stale] == ["PROTO-RESPONDS"]
    assert gate.exit_code == 0
    strict = judged(sample_result(errored=False), Baseline(entries, strict=True))
    assert strict.exit_code == 1 and "stale" in strict.headline


def test_an_incomplete_run_fails_the_gate() -> None:
    gate = judged(sample_result(incomplete=True), Baseline((BaselineEntry("IMG-COUNT"),)))
    assert gate.exit_code == 1 and "INCOMPLETE" in gate.headline


def test_the_baseline_travels_with_the_results() -> None:
    result = sample_result()
    result.baseline = Baseline((BaselineEntry("IMG-COUNT", "GW-1", date(2099, 1, 1)),), "b.toml")
    again = RunResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.baseline == result.baseline
    assert decide(again).headline == decide(result).headline
    assert results_document(result)["gate"]["dispositions"]["IMG-COUNT"] == "known"


def test_write_baseline_accepts_the_run_it_was_written_from(tmp_path: Path) -> None:
    result = sample_result(errored=False)
    result.checks[-1].failures[0].message = 'quote " backslash \\ newline \n bell \x07 del \x7f'
    path = write_baseline(result, tmp_path / "b.toml")
    baseline = load_baseline(path)
    assert [e.check_id for e in baseline.entries] == ["IMG-CREATED-PRESENT", "IMG-COUNT"]
    assert baseline.entries[1].reason.startswith('MUST: quote " backslash \\ newline \n bell')
    assert judged(result, baseline).exit_code == 0


def test_toml_string_round_trips() -> None:
    value = 'a"b\\c\td\ne\x00f\x7fg é 😀'
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_headline_tells_gate_failures_from_warnings() -> None:
    gate = decide(sample_result(errored=False), today=TODAY)
    assert gate.headline == "NOT CONFORMANT (1 MUST; warnings: 1 SHOULD)"
    warned = decide(sample_result(must_fails=False), today=TODAY)
    assert warned.headline == "CONFORMANT WITH WARNINGS (1 SHOULD)"
