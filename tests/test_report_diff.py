"""diff: new failures, fixed, still failing, unchanged passing, per check ID."""

from __future__ import annotations

from pathlib import Path

from test_report_samples import make_check, sample_result

from conformance.report import write_reports
from conformance.report.diff import diff_files, diff_results, render_diff


def ids(changes: list) -> list[str]:  # type: ignore[type-arg]
    return [c.check_id for c in changes]


def test_diff_sorts_every_check() -> None:
    before = sample_result(must_fails=False, errored=True)
    after = sample_result(must_fails=True)
    after.checks = [c for c in after.checks if c.check_id != "IMG-CREATED-PRESENT"]
    after.checks.append(make_check("IMG-CREATED-PRESENT", "SHOULD", "passed"))
    diff = diff_results(before, after)
    assert ids(diff.new_failures) == ["IMG-COUNT"]
    assert diff.new_failures[0].before == "absent" and diff.new_failures[0].after == "failed"
    assert ids(diff.fixed) == ["IMG-CREATED-PRESENT"]
    assert ids(diff.still_failing) == ["SSE-SEQUENCE"]
    assert ids(diff.unchanged_passing) == ["PROTO-RESPONDS"]
    assert ids(diff.other) == ["ERR-EMPTY-PROMPT"]
    assert diff.regressed
    assert not diff_results(after, after).regressed


def test_rendered_diff_names_the_changes() -> None:
    before = sample_result(must_fails=False, errored=False)
    text = render_diff(diff_results(before, sample_result(errored=False)))
    assert "verdict: CONFORMANT WITH WARNINGS -> NOT CONFORMANT" in text
    new_block = text.split("new failures (1):")[1].split("fixed")[0]
    assert "IMG-COUNT" in new_block and "absent -> failed" in new_block
    assert "unchanged passing: 1" in text


def test_diff_files_reads_saved_runs(tmp_path: Path) -> None:
    a = write_reports(sample_result(), tmp_path / "a")["json"]
    later = sample_result(must_fails=False, errored=True)
    later.checks.append(make_check("IMG-COUNT", "MUST", "passed"))
    b = write_reports(later, tmp_path / "b")["json"]
    text, regressed = diff_files(a, b)
    assert not regressed
    assert diff_files(b, a)[1]
    assert "fixed (1):" in text and "IMG-COUNT" in text.split("fixed (1):")[1]


def test_a_check_that_passed_and_is_no_longer_judged_is_a_regression() -> None:
    """Its evidence is gone: a CI job gating on `conformance diff` must not go green on it."""
    before = sample_result(must_fails=False, errored=False)
    before.checks.append(make_check("IMG-COUNT", "MUST", "passed"))
    after = sample_result(must_fails=False, errored=False)
    after.checks.append(make_check("IMG-COUNT", "MUST", "skipped"))
    diff = diff_results(before, after)
    assert ids(diff.no_longer_judged) == ["IMG-COUNT"] and diff.regressed
    assert "no longer judged (1):" in render_diff(diff)
    dropped = sample_result(must_fails=False, errored=False)
    assert ids(diff_results(before, dropped).no_longer_judged) == ["IMG-COUNT"]
    assert not diff_results(after, before).regressed  # judged again: not a regression


def test_count_lines_tell_not_applicable_from_not_judged() -> None:
    """A check no answer gave anything to judge is not called not applicable (that is for a
    check whose subject the document does not declare)."""
    from dataclasses import replace

    from conformance.report.summary import render_summary
    from conformance.results import NOT_APPLICABLE_KIND, unjudged_counts

    moot = replace(make_check("IMG-A", "MUST", "skipped"), unjudged_kind=NOT_APPLICABLE_KIND)
    quiet = replace(make_check("SSE-B", "SHOULD", "skipped"), unjudged_kind="no-answer")
    judged = make_check("IMG-C", "MUST", "passed")
    assert unjudged_counts([moot, quiet, judged]) == "1 not applicable, 1 not judged"
    result = sample_result(must_fails=False, errored=False)
    result.checks += [moot, quiet]
    line = unjudged_counts(result.checks)
    assert line.startswith("1 not applicable, ") and f"{line};" in render_summary(result)
