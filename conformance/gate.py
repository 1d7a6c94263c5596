"""The one decision every output reads: does this run pass the CI gate, and why.

`decide(result)` looks only at the saved result (checks, strict mode, the baseline recorded with
the run, what was left unjudged and why, `--require`), so the terminal, report.html, junit.xml,
results.json, the summary and the exit code cannot tell different stories, and a re-rendered
report says what the run said.

The rules, in order:
- a check that crashed (`error`) fails the gate: a crash never counts as a pass;
- a failure at a gating level (MUST; with `strict`, SHOULD too) fails the gate, unless the
  baseline lists its check and the entry has not expired;
- a failure below the gating level is a warning (a baseline may list it too: then it is known);
- a run in which no MUST check could be judged is INCONCLUSIVE: not a pass (exit 2); a run
  limited to checks below MUST (`--checks`) is INCONCLUSIVE when none of them could be judged;
- a run that was stopped or cut short (signal, deadline), or left a MUST check in scope (or a
  check `--require` names) unjudged, is INCOMPLETE (exit 4): not a pass; failures found still
  win (exit 1);
- with `strict_baseline`, a baseline entry whose check no longer fails fails the gate.

Every verdict line states the scope (`conformance.scope`): what the run's setup left out (e.g.
`CONFORMANT (client side; 11 two-sided MUST checks not run: add --upstream)`) and what it
could not judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from conformance.environment import every_answer_line
from conformance.errors import ExitCode
from conformance.model import ENVIRONMENT_STATUSES, Level, Status, Verdict
from conformance.results import (
    NOT_APPLICABLE_KIND,
    Baseline,
    BaselineEntry,
    CheckResult,
    RunResult,
)
from conformance.scope import Scope, scope_of


class Disposition(StrEnum):
    """What one check's outcome means for the gate."""

    PASSED = "passed"
    SKIPPED = "skipped"
    FAILS_GATE = "fails-gate"
    WARNING = "warning"
    KNOWN = "known"
    """A failure the baseline expects."""
    OUT_OF_SCOPE = "out-of-scope"
    """Not run, by the run's own setup (named in the verdict line)."""
    UNJUDGED = "unjudged"
    """In scope, not judged: the run is INCOMPLETE."""


@dataclass(frozen=True)
class Gate:
    """The decision, with everything an output needs to show it."""

    verdict: Verdict
    exit_code: ExitCode
    headline: str
    """One line: verdict and counts, e.g. `NOT CONFORMANT (3 MUST)`."""
    reasons: tuple[str, ...] = ()
    """Further lines: crashed checks, why nothing was judged, why the run is incomplete."""
    dispositions: dict[str, Disposition] = field(default_factory=dict)
    known: tuple[BaselineEntry, ...] = ()
    stale: tuple[BaselineEntry, ...] = ()
    expired: tuple[BaselineEntry, ...] = ()
    scope: Scope = field(default_factory=Scope)

    @property
    def failed(self) -> bool:
        return self.exit_code != ExitCode.OK

    def known_entry(self, check_id: str) -> BaselineEntry | None:
        return next((e for e in self.known if e.check_id == check_id), None)

    def fails_gate(self, check_id: str) -> bool:
        return self.dispositions.get(check_id) is Disposition.FAILS_GATE

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "exit_code": int(self.exit_code),
            "headline": self.headline,
            "reasons": list(self.reasons),
            "dispositions": {k: v.value for k, v in self.dispositions.items()},
            "known": [e.to_dict() for e in self.known],
            "stale": [e.to_dict() for e in self.stale],
            "expired": [e.to_dict() for e in self.expired],
            "scope": self.scope.to_dict(),
        }


def gating_levels(strict: bool) -> frozenset[str]:
    """The levels whose failures fail the gate."""
    return frozenset({Level.MUST, Level.SHOULD} if strict else {Level.MUST})


def decide(result: RunResult, today: date | None = None) -> Gate:
    """The gate decision for `result` (see the module docstring for the rules)."""
    today = today or _run_day(result)
    baseline = result.baseline or Baseline()
    levels = gating_levels(result.strict)
    scope = scope_of(result)
    dispositions: dict[str, Disposition] = {}
    known: list[BaselineEntry] = []
    expired: list[BaselineEntry] = []
    crashed: list[CheckResult] = []
    for check in result.checks:
        disposition = _disposition(check, levels, baseline, today)
        if check.check_id in scope.unjudged_ids:
            disposition = Disposition.UNJUDGED
        elif check.check_id in scope.out_ids:
            disposition = Disposition.OUT_OF_SCOPE
        dispositions[check.check_id] = disposition
        entry = baseline.get(check.check_id)
        if check.errors:
            crashed.append(check)
        if entry and check.status == Status.FAILED:
            (known if disposition is Disposition.KNOWN else expired).append(entry)
    failed_ids = {c.check_id for c in result.checks if c.status == Status.FAILED}
    stale = tuple(e for e in baseline.entries if e.check_id not in failed_ids)
    expired = [e for e in expired if e.expired(today)]

    gating = [c for c in result.checks if dispositions[c.check_id] is Disposition.FAILS_GATE]
    warnings = [c for c in result.checks if dispositions[c.check_id] is Disposition.WARNING]
    # A run limited to checks below MUST (`--checks`) is judged by what it selected.
    musts = [c for c in result.checks if c.level == Level.MUST] or result.checks
    judged_must = any(c.cases_run for c in musts)
    reasons = [_crash_line(c) for c in crashed]
    incomplete = result.incomplete or bool(scope.unjudged)

    parts = [_counts(gating, warnings, known, crashed, expired)]
    if gating:
        verdict, code = Verdict.NOT_CONFORMANT, ExitCode.FAILED
    elif not judged_must and (result.environment_problems or not (result.incomplete or scope.cut)):
        verdict, code = Verdict.INCONCLUSIVE, ExitCode.USAGE
        reasons.append(_nothing_judged(result))
    elif incomplete:
        verdict, code = Verdict.INCOMPLETE, ExitCode.INCOMPLETE
    elif warnings:
        verdict, code = Verdict.CONFORMANT_WITH_WARNINGS, ExitCode.OK
    else:
        verdict, code = Verdict.CONFORMANT, ExitCode.OK
    if verdict is not Verdict.INCONCLUSIVE:
        parts += scope.phrases()
    counts = "; ".join(p for p in parts if p)
    headline = verdict.value + (f" ({counts})" if counts else "")
    if result.incomplete:
        if verdict is Verdict.NOT_CONFORMANT:
            headline += " · INCOMPLETE"
        reasons.append(f"incomplete: {result.incomplete_reason or 'the run was cut short'}")
    reasons += scope.reasons(out_of_scope=False)
    if baseline.strict and stale and code == ExitCode.OK:
        code = ExitCode.FAILED
        headline += f" · gate failed: {_plural(len(stale), 'stale baseline entry', 'entries')}"
    return Gate(
        verdict=verdict,
        exit_code=code,
        headline=headline,
        reasons=tuple(reasons),
        dispositions=dispositions,
        known=tuple(known),
        stale=stale,
        expired=tuple(expired),
        scope=scope,
    )


def _disposition(
    check: CheckResult, levels: frozenset[str], baseline: Baseline, today: date
) -> Disposition:
    if check.errors:
        return Disposition.FAILS_GATE
    if check.status == Status.PASSED:
        return Disposition.PASSED
    if check.status != Status.FAILED:
        return Disposition.SKIPPED
    entry = baseline.get(check.check_id)
    if check.level in levels:
        if entry is not None and not entry.expired(today):
            return Disposition.KNOWN
        return Disposition.FAILS_GATE
    return Disposition.KNOWN if entry is not None else Disposition.WARNING


def _counts(
    gating: list[CheckResult],
    warnings: list[CheckResult],
    known: list[BaselineEntry],
    crashed: list[CheckResult],
    expired: list[BaselineEntry],
) -> str:
    parts = []
    failing = [c for c in gating if c.failed]
    for level in Level:
        n = sum(1 for c in failing if c.level == level)
        if n:
            parts.append(f"{n} {level.value}")
    if crashed:
        parts.append(_plural(len(crashed), "check error", "check errors"))
    if expired:
        parts.append(_plural(len(expired), "expired baseline entry", "expired baseline entries"))
    warned = [
        f"{n} {level.value}"
        for level in Level
        if (n := sum(1 for c in warnings if c.level == level))
    ]
    if warned:
        # Beside what fails the gate, say that these only warn (`--strict` would fail them).
        parts.append(("warnings: " if parts else "") + ", ".join(warned))
    if known:
        parts.append(_plural(len(known), "known failure", "known failures") + ", see baseline")
    return "; ".join(parts)


def _plural(n: int, one: str, many: str) -> str:
    if many == "entries":
        many = one.replace("entry", "entries")
    return f"{n} {one if n == 1 else many}"


def _crash_line(check: CheckResult) -> str:
    message = next((f.message for f in check.failures if "crashed" in f.message), "")
    return f"{check.check_id} could not judge an answer: {message or 'the check crashed'}"


def _nothing_judged(result: RunResult) -> str:
    problems = result.environment_problems
    other = [p for p in problems if p.status not in ENVIRONMENT_STATUSES]
    if other:  # the runner's route preflight: its message names the URL and likely mistakes
        return f"no MUST check could be judged: {other[0].message}"
    if problems:
        return "no MUST check could be judged: " + every_answer_line(problems)
    musts = [c for c in result.checks if c.level == Level.MUST] or result.checks
    if musts and all(c.unjudged_kind == NOT_APPLICABLE_KIND for c in musts):
        return "no MUST check could be judged: those selected are not applicable to the document"
    return "no MUST check could be judged: no answer was usable"


def _run_day(result: RunResult) -> date:
    try:
        return date.fromisoformat(result.started_at[:10])
    except ValueError:
        return date.today()
