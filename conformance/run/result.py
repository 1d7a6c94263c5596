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
from conformance.unjudged import Absent, Setup, mark_unjudged


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
    upstream: bool,
) -> RunResult:
    """The result of a run that sent `cases` (the plan's and the two-sided ones)."""
    spec, op = config.spec, config.spec.operation
    for result in judge.results.values():
        result.settle()
    _mark_unjudged(config, plan, cases, sender, judge, sdk_note, upstream)
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
    coverage["deadline_s"] = sender.max_duration
    if sender.timing_retries:
        coverage["timing_retries"] = sender.timing_retries[:50]
    if judge.rejudge.listed:
        coverage["timing_rejudged"] = judge.rejudge.listed[:50]
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
        required=list(config.required),
    )


def _mark_unjudged(
    config: RunConfig,
    plan: Plan,
    cases: list[Case],
    sender: Sender,
    judge: Judge,
    sdk_note: str,
    upstream: bool,
) -> None:
    """Name why each check no case judged was not judged (`conformance.unjudged`)."""
    from conformance.run.plan import full_plan
    from conformance.sdk_probe import sdk_installed

    other: list[Case] = []
    if config.shard is not None and plan.coverage.get("shard"):
        other = [c for c in full_plan(config).cases if not config.shard.holds(c)]
    if sender.outcomes.suite_error and not sender.incomplete_reason:
        sender.incomplete_reason = (
            f"{len(sender.outcomes.suite_error)} case(s) could not be judged: a transport error "
            "on the suite's side persisted after retries"
        )
    setup = Setup(
        upstream=upstream,
        sdk_installed=sdk_installed(),
        sdk_note=sdk_note,
        narrowed=config.narrowed,
        budget=config.budget,
        max_requests=config.max_requests,
        stop_kind=sender.stop_kind,
        stop_reason=sender.incomplete_reason,
    )
    absent = Absent(cut=plan.dropped, other_shards=other)
    op = config.spec.operation
    mark_unjudged(judge.results, judge.checks, op, cases, absent, sender.outcomes, setup)


def _named(config: RunConfig) -> str:
    """The profile and model preset, as the report names them beside the target."""
    named = config.profile.name != PROFILES["bifrost"].name
    parts = [f"profile {config.profile.name}"] if named else []
    if config.model_preset:
        parts.append(f"model preset {config.model_preset}")
    return f" ({', '.join(parts)})" if parts else ""
