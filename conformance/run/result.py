"""Phase 4, record: what the run measured, as the `RunResult` every report reads."""

from __future__ import annotations

import time

from conformance import __version__
from conformance.checks.registry import SdkOutcome
from conformance.config import RunConfig
from conformance.model import Case
from conformance.plan import Plan
from conformance.plan.prices import estimate, load_price_table
from conformance.profiles import PROFILES
from conformance.redaction import Redactor
from conformance.results import EMBEDDED_TARGET, RunResult, Stats
from conformance.run.judge import Judge
from conformance.run.send import Sender


def run_result(
    config: RunConfig,
    *,
    base_url: str,
    redactor: Redactor,
    plan: Plan,
    cases: list[Case],
    started_at: str,
    sender: Sender,
    judge: Judge,
    sdk: list[SdkOutcome] | None,
    sdk_note: str,
) -> RunResult:
    """The result of a run that sent `cases` (the plan's and the two-sided ones)."""
    spec, op = config.spec, config.spec.operation
    for result in judge.results.values():
        result.settle()
    coverage = dict(plan.coverage)
    if plan.cut:
        coverage.setdefault("cut", list(plan.cut))
    if sender.not_fetched:
        coverage["not_fetched"] = dict(list(sender.not_fetched.items())[:50])
    if sdk_note:
        coverage["sdk"] = sdk_note
    if config.base_url is None:
        coverage[EMBEDDED_TARGET] = {"fault": config.fault}
    if config.now_refused:
        coverage["now_refused_by_narrowing"] = list(config.now_refused)
    probes = [outcome.exchange.case for outcome in sdk or []]
    unsent = set(sender.unsent)
    sent = [c for c in plan.cases if c.id not in unsent]  # the cap kept the others from the wire
    table = config.price_table or load_price_table()
    coverage["cost_estimate"] = {
        **estimate([*sent, *probes], op, config.model, table),
        "note": "the planned cases and the SDK's probes at a paid provider's list prices; "
        "shrinking attempts and retries come on top",
    }
    if sender.unsent:
        coverage["unsent"] = {
            "reason": "request budget (--max-requests) spent by url fetches and shrinking",
            "cases": sender.unsent,
        }
    images = judge.images + sum(o.exchange.case.images_requested(op) for o in sdk or [])
    return RunResult(
        suite_version=__version__,
        target=redactor.text(base_url) + _named(config),
        spec_title=spec.title,
        spec_source=spec.source,
        spec_sha256=spec.sha256,
        operation=f"{op.method.upper()} {op.path}",
        seed=config.seed,
        started_at=started_at,
        stats=Stats(
            requests=sender.budget.sent,
            images=images,
            cases=len(cases),
            duration_s=round(time.monotonic() - sender.started, 3),
        ),
        checks=list(judge.results.values()),
        environment_problems=judge.environment,
        coverage=coverage,
        incomplete=bool(sender.incomplete_reason),
        incomplete_reason=sender.incomplete_reason,
        strict=config.strict,
    )


def _named(config: RunConfig) -> str:
    """The profile and model preset, as the report names them beside the target."""
    named = config.profile.name != PROFILES["bifrost"].name
    parts = [f"profile {config.profile.name}"] if named else []
    if config.model_preset:
        parts.append(f"model preset {config.model_preset}")
    return f" ({', '.join(parts)})" if parts else ""
