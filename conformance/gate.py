"""The one decision every output reads: does this run pass the CI gate, and why.

`decide(result)` looks only at the saved result (checks, strict mode, the baseline recorded with
the run, completeness), so the terminal, report.html, junit.xml, results.json, the summary and
the exit code cannot tell different stories, and a re-rendered report says what the run said.

The rules, in order:
- a check that crashed (`error`) fails the gate: a crash never counts as a pass;
- a failure at a gating level (MUST; with `strict`, SHOULD too) fails the gate, unless the
  baseline lists its check and the entry has not expired;
- a failure below the gating level is a warning (a baseline may list it too: then it is known);
- an interrupted or cut-short run (INCOMPLETE) fails the gate;
- a run in which no MUST check could be judged is INCONCLUSIVE: not a pass (exit 2); a run
  limited to checks below MUST (`--checks`) is INCONCLUSIVE when none of them could be judged;
- with `strict_baseline`, a baseline entry whose check no longer fails fails the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from conformance.errors import ExitCode
from conformance.model import ENVIRONMENT_STATUSES, Level, Status, Verdict

if TYPE_CHECKING:
    from conformance.results import CheckResult, RunResult


class Disposition(StrEnum):
    """What one check's outcome means for the gate."""

    PASSED = "passed"
    SKIPPED = "skipped"
    FAILS_GATE = "fails-gate"
    WARNING = "warning"
    KNOWN = "known"
    """A failure the baseline expects."""


@dataclass(frozen=True)
class BaselineEntry:
    """One expected failure: the check, why it is accepted, until when."""

    check_id: str
    reason: str = ""
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaselineEntry:
        expires = data.get("expires")
        return cls(
            str(data["check_id"]),
            str(data.get("reason", "")),
            date.fromisoformat(expires) if isinstance(expires, str) else None,
        )


@dataclass(frozen=True)
class Baseline:
    """The expected failures a run was judged against (recorded in results.json)."""

    entries: tuple[BaselineEntry, ...] = ()
    path: str = ""
    strict: bool = False
    """Stale entries (their check no longer fails) fail the gate too."""

    def get(self, check_id: str) -> BaselineEntry | None:
        return next((e for e in self.entries if e.check_id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "strict": self.strict,
            "entries": [e.to_dict() for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        entries = tuple(BaselineEntry.from_dict(e) for e in data.get("entries", []))
        return cls(entries, str(data.get("path", "")), bool(data.get("strict", False)))


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
        }


def gating_levels(strict: bool) -> frozenset[str]:
    """The levels whose failures fail the gate."""
    return frozenset({Level.MUST, Level.SHOULD} if strict else {Level.MUST})


def decide(result: RunResult, today: date | None = None) -> Gate:
    """The gate decision for `result` (see the module docstring for the rules)."""
    today = today or _run_day(result)
    baseline = result.baseline or Baseline()
    levels = gating_levels(result.strict)
    dispositions: dict[str, Disposition] = {}
    known: list[BaselineEntry] = []
    expired: list[BaselineEntry] = []
    crashed: list[CheckResult] = []
    for check in result.checks:
        disposition = _disposition(check, levels, baseline, today)
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

    counts = _counts(gating, warnings, known, crashed, expired)
    if gating:
        verdict, code = Verdict.NOT_CONFORMANT, ExitCode.FAILED
    elif not judged_must and not result.incomplete:
        verdict, code = Verdict.INCONCLUSIVE, ExitCode.USAGE
        reasons.append(_nothing_judged(result))
    elif warnings:
        verdict, code = Verdict.CONFORMANT_WITH_WARNINGS, ExitCode.OK
    elif not judged_must:
        verdict, code = Verdict.INCONCLUSIVE, ExitCode.FAILED
    else:
        verdict, code = Verdict.CONFORMANT, ExitCode.OK
    headline = verdict.value + (f" ({counts})" if counts else "")
    if result.incomplete:
        code = ExitCode.FAILED
        headline += " · INCOMPLETE"
        reasons.append(f"incomplete: {result.incomplete_reason or 'the run was cut short'}")
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
        statuses = sorted({p.status for p in problems})
        listed = "/".join(str(s) for s in statuses)
        return (
            f"no MUST check could be judged: every answer was {listed} "
            "(credentials or quota, not conformance)"
        )
    return "no MUST check could be judged: no answer was usable"


def _run_day(result: RunResult) -> date:
    try:
        return date.fromisoformat(result.started_at[:10])
    except ValueError:
        return date.today()
