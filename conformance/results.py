"""The result model behind every report: run metadata, one result per check, each failure.

`RunResult.to_dict()` is what the run measured (`results.json` adds the gate decision of
`conformance.gate.decide`, which reads this model; this model never reads the gate);
`RunResult.from_dict()` reads one back so saved runs can be re-rendered or compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from conformance.model import Level, Status

SCHEMA_VERSION = "1.2"
EMBEDDED_TARGET = "embedded_target"
"""The coverage key of a run against the embedded reference gateway: `{"fault": ID or None}`,
so `conformance replay` starts the same target again (its loopback port is gone)."""

NOT_APPLICABLE_KIND = "not-applicable"
OUT_OF_SCOPE_KINDS = frozenset({"two-sided", "sdk", "narrowed", "shard", NOT_APPLICABLE_KIND})
"""Why a check was not run that the run's own setup decided (named in every output, not a
failure unless `--require` asks for it): no upstream to read, no SDK installed, a spec the
user narrowed, cases that belong to another shard, or a document that does not declare the
check's subject at all (`Check.undeclared`: no error answer, no `fallbacks` field, no error
event in its stream)."""
UNJUDGED_KINDS = frozenset(
    {
        "cap",
        "deadline",
        "budget",
        "interrupted",
        "halted",
        "missing-shard",
        "suite-error",
        "document",
        "environment",
        "no-answer",
    }
)
"""Why a check in scope was not judged: the request cap, the run deadline, the budget preset,
a stop signal, a run halted on the gateway's account, a transport error on the suite's side,
a document that declares nothing it judges, answers that were all 401/403/429, answers that
gave it nothing to judge."""


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


@dataclass
class SseTimelineEntry:
    type: str
    sequence_number: int | None
    t_ms: float


@dataclass
class Failure:
    """One failed (or errored) application of a check to one case."""

    check_id: str
    level: str
    case_id: str
    case_title: str
    message: str
    expected: str = ""
    actual: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    curl: str = ""
    thumbnail: str | None = None
    timeline: list[SseTimelineEntry] = field(default_factory=list)
    case: dict[str, Any] = field(default_factory=dict)
    """What the case meant (kind, expect, rule, tags, ...): `conformance replay` rebuilds it
    from this and the request."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        timeline = [SseTimelineEntry(**e) for e in data.get("timeline", [])]
        return cls(**{**data, "timeline": timeline})


@dataclass
class CheckResult:
    """The outcome of one check over the whole run."""

    check_id: str
    level: str
    statement: str
    pointer: str
    family: str
    rationale: str = ""
    status: str = Status.SKIPPED.value
    cases_run: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    failures: list[Failure] = field(default_factory=list)
    unjudged_kind: str = ""
    """When no case judged the check: why (one of `OUT_OF_SCOPE_KINDS` or `UNJUDGED_KINDS`)."""
    unjudged_reason: str = ""
    """The same, as a sentence for the reports (e.g. what flag would bring it into scope)."""

    @property
    def left_out_as(self) -> str:
        """How a check the run left out is named: `not applicable` (its document declares no
        subject for it) or `out of scope` (the run's setup)."""
        return "not applicable" if self.unjudged_kind == NOT_APPLICABLE_KIND else "out of scope"

    def record_pass(self) -> None:
        self.cases_run += 1
        self.passed += 1

    def record_failure(self, failure: Failure | None, *, error: bool = False) -> None:
        """Count a failure; `None`: counted only (the per-check cap on stored failures)."""
        self.cases_run += 1
        if error:
            self.errors += 1
        else:
            self.failed += 1
        if failure is not None:
            self.failures.append(failure)

    def settle(self) -> None:
        """Derive `status` from the counts."""
        if self.failed:
            self.status = Status.FAILED.value
        elif self.errors:
            self.status = Status.ERROR.value
        elif self.passed:
            self.status = Status.PASSED.value
        else:
            self.status = Status.SKIPPED.value

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        failures = [Failure.from_dict(f) for f in data.get("failures", [])]
        return cls(**{**data, "failures": failures})


@dataclass
class EnvironmentProblem:
    """A 401/403/429 or similar answer: about credentials or quota, not conformance."""

    case_id: str
    status: int
    message: str


@dataclass
class Stats:
    requests: int = 0
    images: int = 0
    cases: int = 0
    duration_s: float = 0.0


@dataclass
class RunResult:
    """Everything a run measured."""

    suite_version: str
    target: str
    spec_title: str
    spec_source: str
    spec_sha256: str
    operation: str
    seed: int
    started_at: str
    stats: Stats = field(default_factory=Stats)
    checks: list[CheckResult] = field(default_factory=list)
    environment_problems: list[EnvironmentProblem] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    incomplete: bool = False
    incomplete_reason: str = ""
    strict: bool = False
    required: list[str] = field(default_factory=list)
    """`--require`: `two-sided`, `sdk` or check IDs that must not be out of scope."""
    baseline: Baseline | None = None
    """The expected failures the run is judged against, when a baseline was given."""
    schema_version: str = SCHEMA_VERSION

    def failing(self, *levels: Level) -> list[CheckResult]:
        wanted = {lv.value for lv in levels} or {lv.value for lv in Level}
        return [c for c in self.checks if c.status == Status.FAILED.value and c.level in wanted]

    def to_dict(self) -> dict[str, Any]:
        baseline = self.baseline
        self.baseline = None
        try:
            data = asdict(self)
        finally:
            self.baseline = baseline
        data["baseline"] = baseline.to_dict() if baseline else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        fields = dict(data)
        fields.pop("verdict", None)
        fields.pop("gate", None)
        baseline = fields.get("baseline")
        fields["baseline"] = Baseline.from_dict(baseline) if isinstance(baseline, dict) else None
        fields["stats"] = Stats(**fields.get("stats", {}))
        fields["checks"] = [CheckResult.from_dict(c) for c in fields.get("checks", [])]
        fields["environment_problems"] = [
            EnvironmentProblem(**e) for e in fields.get("environment_problems", [])
        ]
        return cls(**fields)


def unjudged_counts(checks: Iterable[CheckResult]) -> str:
    """The checks no case judged, as the count lines say them: `1 not applicable, 2 not judged`
    (not applicable: the document declares no subject for the check; not judged: anything
    else kept it from a judgement, the run's setup or its answers)."""
    skipped = [c for c in checks if c.status == Status.SKIPPED.value]
    moot = sum(1 for c in skipped if c.unjudged_kind == NOT_APPLICABLE_KIND)
    return f"{moot} not applicable, {len(skipped) - moot} not judged"
