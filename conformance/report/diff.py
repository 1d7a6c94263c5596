"""Compare two runs check by check: what broke, what was fixed, what stayed, and what the later
run no longer judged (a check that passed before and was skipped or left out after has lost
its evidence: a regression too, as a gate reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.gate import decide
from conformance.model import Status
from conformance.report.jsonreport import load_results
from conformance.results import CheckResult, RunResult

FAILING = frozenset({Status.FAILED.value, Status.ERROR.value})
ABSENT = "absent"


@dataclass(frozen=True)
class CheckChange:
    """One check's status in the earlier run (`before`) and the later one (`after`)."""

    check_id: str
    level: str
    before: str
    after: str


@dataclass
class Diff:
    """Per check ID, how run `b` differs from run `a`."""

    verdict_before: str
    verdict_after: str
    new_failures: list[CheckChange] = field(default_factory=list)
    fixed: list[CheckChange] = field(default_factory=list)
    still_failing: list[CheckChange] = field(default_factory=list)
    unchanged_passing: list[CheckChange] = field(default_factory=list)
    no_longer_judged: list[CheckChange] = field(default_factory=list)
    """Passed before, skipped or absent after."""
    other: list[CheckChange] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures or self.no_longer_judged)


def _status(check: CheckResult | None) -> str:
    return check.status if check else ABSENT


def diff_results(a: RunResult, b: RunResult) -> Diff:
    """How `b` (the later run) differs from `a` (the earlier one)."""
    before = {c.check_id: c for c in a.checks}
    after = {c.check_id: c for c in b.checks}
    diff = Diff(decide(a).verdict.value, decide(b).verdict.value)
    for check_id in sorted(before.keys() | after.keys()):
        old, new = before.get(check_id), after.get(check_id)
        level = (new or old).level  # type: ignore[union-attr]
        change = CheckChange(check_id, level, _status(old), _status(new))
        failed_before, failed_after = change.before in FAILING, change.after in FAILING
        if failed_after and not failed_before:
            diff.new_failures.append(change)
        elif failed_before and failed_after:
            diff.still_failing.append(change)
        elif failed_before and change.after == Status.PASSED.value:
            diff.fixed.append(change)
        elif change.before == change.after == Status.PASSED.value:
            diff.unchanged_passing.append(change)
        elif change.before == Status.PASSED.value:
            diff.no_longer_judged.append(change)
        else:
            diff.other.append(change)
    return diff


def render_diff(diff: Diff) -> str:
    """The diff as plain text, one line per changed check."""
    lines = [f"verdict: {diff.verdict_before} -> {diff.verdict_after}"]
    for title, changes in (
        ("new failures", diff.new_failures),
        ("fixed", diff.fixed),
        ("still failing", diff.still_failing),
        ("no longer judged", diff.no_longer_judged),
        ("other changes", [c for c in diff.other if c.before != c.after]),
    ):
        lines.append(f"{title} ({len(changes)}):")
        lines.extend(f"  {c.check_id:<28} {c.level:<6} {c.before} -> {c.after}" for c in changes)
    lines.append(f"unchanged passing: {len(diff.unchanged_passing)}")
    return "\n".join(lines) + "\n"


def diff_files(a: Path | str, b: Path | str) -> tuple[str, bool]:
    """Plain-text diff of two saved `results.json` files (`b` is the later run), and whether
    `b` regressed: new failures, or checks that passed in `a` and were not judged in `b`."""
    diff = diff_results(load_results(a), load_results(b))
    return render_diff(diff), diff.regressed
