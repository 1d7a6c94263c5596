"""Baselines: known failures pass the gate, new or expired ones fail it, stale ones are named."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from test_report_samples import sample_result

from conformance.report.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    apply_baseline,
    load_baseline,
    toml_string,
    write_baseline,
)

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
    assert baseline.entries == [
        BaselineEntry("IMG-COUNT", "GW-1", date(2025, 7, 1)),
        BaselineEntry("SSE-SEQUENCE", "", date(2025, 5, 1)),
    ]


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


def test_known_failures_pass_the_gate() -> None:
    baseline = Baseline([BaselineEntry("IMG-COUNT", "GW-1", date(2025, 6, 1))])
    outcome = apply_baseline(sample_result(), baseline, today=TODAY)
    assert [e.check_id for e in outcome.known] == ["IMG-COUNT"]
    assert outcome.new_failures == [] and outcome.expired == [] and outcome.stale == []
    assert outcome.exit_code == 0


def test_new_failure_fails_the_gate() -> None:
    outcome = apply_baseline(sample_result(), Baseline(), today=TODAY)
    assert [c.check_id for c in outcome.new_failures] == ["IMG-COUNT"]  # SHOULD does not gate
    assert outcome.exit_code == 1
    assert "new failure: IMG-COUNT [MUST]" in outcome.summary()


def test_strict_runs_gate_on_should_failures_too() -> None:
    result = sample_result()
    result.strict = True
    outcome = apply_baseline(result, Baseline([BaselineEntry("IMG-COUNT")]), today=TODAY)
    assert [c.check_id for c in outcome.new_failures] == ["IMG-CREATED-PRESENT"]
    assert outcome.exit_code == 1


def test_expired_entries_count_as_failures() -> None:
    baseline = Baseline([BaselineEntry("IMG-COUNT", "GW-1", date(2025, 5, 31))])
    outcome = apply_baseline(sample_result(), baseline, today=TODAY)
    assert [e.check_id for e in outcome.expired] == ["IMG-COUNT"]
    assert outcome.known == [] and outcome.new_failures == []
    assert outcome.exit_code == 1


def test_stale_entries_fail_only_a_strict_baseline() -> None:
    baseline = Baseline([BaselineEntry("PROTO-RESPONDS"), BaselineEntry("IMG-COUNT")])
    outcome = apply_baseline(sample_result(), baseline, today=TODAY)
    assert [e.check_id for e in outcome.stale] == ["PROTO-RESPONDS"]
    assert outcome.exit_code == 0
    strict = apply_baseline(sample_result(), baseline, today=TODAY, strict_baseline=True)
    assert strict.exit_code == 1


def test_an_incomplete_run_fails_the_gate() -> None:
    outcome = apply_baseline(
        sample_result(incomplete=True), Baseline([BaselineEntry("IMG-COUNT")]), today=TODAY
    )
    assert outcome.exit_code == 1


def test_write_baseline_accepts_the_run_it_was_written_from(tmp_path: Path) -> None:
    result = sample_result()
    result.checks[-1].failures[0].message = 'quote " backslash \\ newline \n bell \x07 del \x7f'
    path = write_baseline(result, tmp_path / "b.toml")
    baseline = load_baseline(path)
    assert [e.check_id for e in baseline.entries] == ["IMG-CREATED-PRESENT", "IMG-COUNT"]
    assert baseline.entries[1].reason.startswith('MUST: quote " backslash \\ newline \n bell')
    assert apply_baseline(result, baseline, today=TODAY).exit_code == 0


def test_toml_string_round_trips() -> None:
    value = 'a"b\\c\td\ne\x00f\x7fg é 😀'
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value
