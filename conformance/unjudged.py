"""Why a check ended a run without a judged case, as the gate reads it (`conformance.scope`).

The runner records what became of each case (judged, answered 401/403/429, hit a suite-side
transport error, left unsent); `mark_unjudged` then names, for every check no case judged, the
cause: the run's setup (no upstream, no SDK, a narrowed spec, another shard), or what cut it
(the cap, the deadline, a stop, the budget preset, the document itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from conformance.checks.registry import Check
from conformance.model import PARITY_PREFIX, Case, Level
from conformance.results import NOT_APPLICABLE_KIND, CheckResult
from conformance.spec import Operation

TWO_SIDED_FAMILY = "forwarding"
SDK_CHECK = "SDK-COMPAT"


def essential_cases(cases: Sequence[Case], checks: Sequence[Check], op: Operation) -> list[str]:
    """Ids of few cases that give every MUST check of `checks` one case it can judge (the first
    in plan order, shared where one case serves several checks, with the rest of its parity
    group): what a request cap keeps first. `applies_to` is a necessary condition only, so a
    check may still find nothing to judge in them (the run then says so: INCOMPLETE)."""
    chosen: list[Case] = []
    for chk in checks:
        if chk.level is not Level.MUST or any(chk.applies(c, op) for c in chosen):
            continue
        found = next((c for c in cases if chk.applies(c, op)), None)
        if found is None:
            continue
        groups = {t for t in found.tags if t.startswith(PARITY_PREFIX)}
        chosen += [c for c in cases if c is found or groups & set(c.tags)]
    return list(dict.fromkeys(c.id for c in chosen))


def without_case(cases: Sequence[Case], checks: Iterable[Check], op: Operation) -> list[str]:
    """The MUST checks of `checks` that no case of `cases` can judge."""
    return [
        c.id
        for c in checks
        if c.level is Level.MUST and not any(c.applies(case, op) for case in cases)
    ]


@dataclass
class Outcomes:
    """What became of the run's cases, by case id."""

    judged: set[str] = field(default_factory=set)
    environment: set[str] = field(default_factory=set)
    suite_error: set[str] = field(default_factory=set)
    unsent: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Absent:
    """Cases of the whole plan a run did not hold."""

    cut: Sequence[Case] = ()
    """Removed by the request cap."""
    other_shards: Sequence[Case] = ()


@dataclass(frozen=True)
class Setup:
    """What the run was set up to do, and why it stopped early (if it did)."""

    upstream: bool
    sdk_installed: bool
    sdk_note: str = ""
    narrowed: tuple[str, ...] = ()
    budget: str = "standard"
    max_requests: int | None = None
    stop_kind: str = ""
    """`interrupted`, `deadline` or `halted` when the run stopped before sending everything."""
    stop_reason: str = ""


def mark_unjudged(
    results: dict[str, CheckResult],
    checks: Sequence[Check],
    op: Operation,
    sent: Sequence[Case],
    absent: Absent,
    outcomes: Outcomes,
    setup: Setup,
) -> None:
    """Set `unjudged_kind` / `unjudged_reason` on every result no case judged. `sent`: the cases
    of the run's plan; `absent`: the whole plan's cases the run did not hold."""
    for chk in checks:
        result = results[chk.id]
        if result.cases_run or result.failures or result.errors:
            continue
        why = _why(chk, op, sent, absent, outcomes, setup)
        result.unjudged_kind, result.unjudged_reason = why


def _why(
    chk: Check,
    op: Operation,
    sent: Sequence[Case],
    absent: Absent,
    outcomes: Outcomes,
    setup: Setup,
) -> tuple[str, str]:
    if chk.family == TWO_SIDED_FAMILY and not setup.upstream:
        return "two-sided", "add --upstream"
    if chk.id == SDK_CHECK:
        if not setup.sdk_installed:
            return "sdk", "the openai package is not installed"
        if setup.stop_kind:
            return setup.stop_kind, setup.stop_reason
        return "no-answer", setup.sdk_note or "the SDK's probes were not judged"
    ids = {c.id for c in sent if chk.applies(c, op)}
    undeclared = chk.undeclared(op)
    if undeclared is not None:
        return NOT_APPLICABLE_KIND, undeclared
    if not ids:
        return _not_planned(chk, op, absent, setup)
    answered = outcomes.judged | outcomes.environment | outcomes.suite_error | outcomes.unsent
    if setup.stop_kind and ids - answered:
        return setup.stop_kind, setup.stop_reason  # cases it could judge were never sent
    if ids & outcomes.judged:
        if any(chk.applies(c, op) for c in absent.cut):
            cap = f"request cap (--max-requests {setup.max_requests})"
            return "cap", f"{cap}: the cases kept gave them nothing to judge"
        if setup.narrowed:
            return _narrowed(setup)
        return "no-answer", "no answer gave them anything to judge"
    if ids & outcomes.suite_error:
        return "suite-error", "a transport error on the suite's side, after retries"
    if ids & outcomes.unsent:
        return "cap", "request cap (--max-requests) spent by image fetches and shrinking"
    return "environment", "every answer they could judge was 401/403/429"


def _not_planned(chk: Check, op: Operation, absent: Absent, setup: Setup) -> tuple[str, str]:
    """No case of the run could judge `chk`: why not."""
    if any(chk.applies(c, op) for c in absent.cut):
        return "cap", f"request cap (--max-requests {setup.max_requests})"
    if any(chk.applies(c, op) for c in absent.other_shards):
        return "shard", "their cases are in other shards"
    if setup.narrowed:
        return _narrowed(setup)
    if setup.budget == "smoke":
        return "budget", "the smoke budget plans no case for them (use --budget standard)"
    return (
        "document",
        "the document declares nothing they judge (exclude them with --exclude-checks)",
    )


def _narrowed(setup: Setup) -> tuple[str, str]:
    return "narrowed", f"the spec narrowed by {'; '.join(setup.narrowed)} gives them nothing"
