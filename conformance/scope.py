"""What a run covered: the checks its own setup left out, and the checks it could not judge.

A check that no case judged carries why (`CheckResult.unjudged_kind`, set by the runner). The
run's setup may leave a check out (no upstream to read, no SDK, a narrowed spec, another
shard's cases): that is named in every output and is no failure, unless `--require` names the
check or its group. A MUST check whose subject the document does not declare is named not
applicable, and is not passed either: excluding it is the user's call. A MUST check in scope
(or a required one) that was not judged makes the run INCOMPLETE (`conformance.gate`): it was
not passed, whatever else passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.model import Level, Status
from conformance.results import NOT_APPLICABLE_KIND, OUT_OF_SCOPE_KINDS, CheckResult, RunResult

REQUIRE_GROUPS = ("two-sided", "sdk")
"""What `--require` accepts besides check IDs: the out-of-scope groups a CI job may demand."""
CUT_KINDS = frozenset(
    {"cap", "deadline", "budget", "interrupted", "halted", "suite-error", "missing-shard"}
)
"""Unjudged because the run was cut short, not because nothing could be judged."""
_LABEL = {"two-sided": "two-sided "}
_NAMED_UP_TO = 2
"""Groups this small name their checks in the verdict line; larger ones are counted."""


@dataclass(frozen=True)
class ScopeGroup:
    """Checks left unjudged for one reason."""

    kind: str
    reason: str
    checks: tuple[CheckResult, ...]
    required: bool = False
    """Out of the run's scope, but `--require` asked for them."""

    @property
    def ids(self) -> list[str]:
        return [c.check_id for c in self.checks]

    @property
    def not_applicable(self) -> bool:
        """The document does not declare what these checks judge: nothing to send them. Named
        for SHOULD checks; for MUST ones the run is INCOMPLETE until they are excluded."""
        return self.kind == NOT_APPLICABLE_KIND

    def why(self) -> str:
        """The reason, and for MUST checks the document does not declare, how to accept that."""
        if not self.not_applicable:
            return self.reason
        return (
            f"not applicable, {self.reason}; to accept that, --exclude-checks {','.join(self.ids)}"
        )

    def counted(self) -> str:
        """`11 two-sided MUST checks (and 1 SHOULD)`, or the IDs of a small group."""
        if len(self.checks) <= _NAMED_UP_TO:
            return " and ".join(self.ids)
        label = _LABEL.get(self.kind, "")
        musts = sum(1 for c in self.checks if c.level == Level.MUST.value)
        others = len(self.checks) - musts
        if not musts:
            return f"{others} {label}checks"
        text = f"{musts} {label}MUST check{'s' if musts != 1 else ''}"
        return text + (f" (and {others} below MUST)" if others else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "checks": self.ids,
            "must": sum(1 for c in self.checks if c.level == Level.MUST.value),
            "required": self.required,
        }


@dataclass(frozen=True)
class Scope:
    """The run's scope: what its setup left out, what it could not judge."""

    out: tuple[ScopeGroup, ...] = ()
    unjudged: tuple[ScopeGroup, ...] = ()

    @property
    def out_ids(self) -> frozenset[str]:
        return frozenset(i for g in self.out for i in g.ids)

    @property
    def unjudged_ids(self) -> frozenset[str]:
        return frozenset(i for g in self.unjudged for i in g.ids)

    @property
    def cut(self) -> bool:
        """Some check went unjudged because the run was cut short."""
        return any(g.kind in CUT_KINDS for g in self.unjudged)

    @property
    def client_side(self) -> bool:
        return any(g.kind == "two-sided" for g in self.out)

    def phrases(self) -> list[str]:
        """Parts of the verdict line, e.g. `client side; 11 two-sided MUST checks not run:
        add --upstream`."""
        moot = [i for g in self.unjudged if g.not_applicable and not g.required for i in g.ids]
        parts = [
            f"{g.counted()} not judged: {g.reason}"
            for g in self.unjudged
            if not (g.not_applicable and not g.required)
        ]
        if moot:
            many = "s" if len(moot) != 1 else ""
            parts.append(
                f"{len(moot)} MUST check{many} not applicable to the document: "
                f"to accept, --exclude-checks {','.join(moot)}"
            )
        out = [
            f"{g.counted()} {'not applicable' if g.not_applicable else 'not run'}: {g.reason}"
            for g in self.out
        ]
        if self.client_side:
            out[0] = "client side; " + out[0]
        return parts + out

    def out_reasons(self) -> list[str]:
        """One line per group the run's setup or its document left out, naming every check."""
        return [
            f"{'not applicable' if g.not_applicable else 'out of scope'} ({g.reason}): "
            + ", ".join(g.ids)
            for g in self.out
        ]

    def reasons(self, out_of_scope: bool = True) -> list[str]:
        """One line per group, naming every check (the out-of-scope groups too, unless told
        not to: the verdict line already counts them)."""
        lines = []
        for g in self.unjudged:
            why = f"required (--require) but not run: {g.reason}" if g.required else g.why()
            lines.append(f"not judged ({why}): {', '.join(g.ids)}")
        return lines + (self.out_reasons() if out_of_scope else [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": "; ".join(self.phrases()),
            "out_of_scope": [g.to_dict() for g in self.out],
            "unjudged": [g.to_dict() for g in self.unjudged],
        }


def is_required(check: CheckResult, required: Sequence[str]) -> bool:
    """Whether `--require` names the check or its out-of-scope group."""
    return check.check_id in required or (
        bool(check.unjudged_kind) and check.unjudged_kind in required
    )


def _left_out(check: CheckResult) -> bool:
    """Out of the run's scope by its setup. A MUST check whose subject the document does not
    declare is not: the run could not judge it, so it is INCOMPLETE until the user excludes it
    (rulings, Verdicts 2026-12-07); a SHOULD or MAY one is only named."""
    if check.unjudged_kind == NOT_APPLICABLE_KIND:
        return check.level != Level.MUST.value
    return check.unjudged_kind in OUT_OF_SCOPE_KINDS


def judged(check: CheckResult) -> bool:
    return bool(check.cases_run or check.failures or check.errors) or (
        check.status != Status.SKIPPED.value
    )


def scope_of(result: RunResult) -> Scope:
    """The scope of `result`: out-of-scope checks by group, and the unjudged checks that count
    (every MUST check, and every required one, that no case judged)."""
    out: dict[tuple[str, str], list[CheckResult]] = {}
    unjudged: dict[tuple[str, str, bool], list[CheckResult]] = {}
    for check in result.checks:
        if judged(check):
            continue
        kind = check.unjudged_kind
        reason = check.unjudged_reason or "no case of the run judged it"
        required = is_required(check, result.required)
        if _left_out(check) and not required:
            out.setdefault((kind, reason), []).append(check)
        elif required or check.level == Level.MUST.value:
            unjudged.setdefault((kind, reason, required), []).append(check)
    return Scope(
        out=tuple(ScopeGroup(k, r, tuple(cs)) for (k, r), cs in out.items()),
        unjudged=tuple(ScopeGroup(k, r, tuple(cs), q) for (k, r, q), cs in unjudged.items()),
    )
