"""What `--dry-run` says a run would send, and what the gate would decide had every answer
passed: the plan's summary, the two-sided cases, the SDK's probes, the image URLs fetched,
the cost, and the checks the run could not judge.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.config import RunConfig
from conformance.gate import Gate
from conformance.model import Case, provoked_fault
from conformance.plan.budget import within_cap
from conformance.plan.prices import estimate, load_price_table
from conformance.plan.upstream import RECOVERED_FAULTS
from conformance.run.plan import (
    URL_FORMAT,
    full_plan,
    judging_checks,
    make_plan,
    sdk_cases,
    two_sided_cases,
    watches_upstream,
)
from conformance.run.preview import foreseen
from conformance.unjudged import Absent, without_case


def dry_run_summary(config: RunConfig) -> dict[str, object]:
    """What a run with `config` would send: the plan's summary, plus the two-sided cases (when
    an upstream is watched), the official SDK's probes and the image URLs a conforming
    gateway's answers would make the suite fetch (each one request). `images_requested` and
    the cost count what a paid provider behind the gateway would generate: the plan's images
    and the SDK's; the two-sided cases' images come from the fake upstream."""
    op = config.spec.operation
    plan = make_plan(config)
    two_sided = two_sided_cases(config, nonce="dry-run") if watches_upstream(config) else []
    sdk = sdk_cases(config)
    fetched = _fetches(config, sdk)
    # A request cap stops the run mid-plan: only what gets on the wire is counted and priced
    # (in sending order: the two-sided cases, the plan, the SDK's probes).
    wire = {
        id(c)
        for c in within_cap(
            [*two_sided, *plan.cases, *sdk], lambda c: 1 + fetched(c), config.max_requests
        )
    }
    unreached = [c for c in [*two_sided, *plan.cases] if id(c) not in wire]
    planned = [c for c in plan.cases if id(c) in wire]
    two_sided, sdk = [c for c in two_sided if id(c) in wire], [c for c in sdk if id(c) in wire]
    sent = [*planned, *two_sided, *sdk]
    fetches = sum(fetched(case) for case in sent)
    summary = dict(plan.summary())
    if len(planned) < len(plan.cases):
        summary["not_reached_by_max_requests"] = len(plan.cases) - len(planned)
    not_planned = plan.coverage.get("selection", {}).get("not_planned")
    if not_planned:
        summary["not_planned"] = not_planned
    paid = [*planned, *sdk]
    summary["images_requested"] = sum(case.images_requested(op) for case in paid)
    summary["requests_by_source"] = {
        "plan": len(planned),
        "two_sided": len(two_sided),
        "sdk_probe": len(sdk),
        "image_url_fetches": fetches,
    }
    summary["images_by_source"] = {
        "plan": sum(case.images_requested(op) for case in planned),
        "sdk_probe": sum(case.images_requested(op) for case in sdk),
        "two_sided_at_fake_upstream": sum(case.images_requested(op) for case in two_sided),
    }
    summary["cost_estimate"] = estimate(
        paid, op, config.model, config.price_table or load_price_table()
    )
    if config.now_refused:
        summary["now_refused_by_narrowing"] = list(config.now_refused)
    summary["image_url_fetches"] = fetches
    total = len(sent) + fetches
    summary["requests_estimate"] = min(total, config.max_requests or total)
    in_scope = [
        c for c in judging_checks(config) if c.family != "forwarding" or watches_upstream(config)
    ]
    unjudged = without_case([*planned, *two_sided], in_scope, op)
    if unjudged:
        capped = plan.cut or len(planned) < len(plan.cases)
        why = "the request cap" if capped else f"the {config.budget} budget or the document"
        summary["must_checks_unjudged"] = {"checks": unjudged, "why": why}
    gate = _foreseen(config, [*planned, *two_sided], [*plan.dropped, *unreached], sdk)
    summary["not_applicable"] = {
        check_id: group.reason
        for group in (*gate.scope.unjudged, *gate.scope.out)
        if group.not_applicable
        for check_id in group.ids
    }
    summary["verdict_if_conforming"] = {
        "verdict": gate.verdict.value,
        "exit_code": int(gate.exit_code),
        "headline": gate.headline,
        "reasons": list(gate.reasons),
    }
    summary["requests_note"] = (
        "cases, two-sided cases, the SDK's probes and the image URLs of a conforming gateway "
        "(the parity check fetches its own); retries and the shrinking of failures come on "
        "top; --max-requests caps them all"
    )
    return summary


def _foreseen(config: RunConfig, sent: list[Case], cut: list[Case], sdk: list[Case]) -> Gate:
    """The gate's decision on the run `config` plans, had every answer passed
    (`conformance.run.preview`); `cut`: the cases the request cap keeps from the wire."""
    other: list[Case] = []
    if config.shard is not None:
        other = [c for c in full_plan(config).cases if not config.shard.holds(c)]
    return foreseen(config, sent, Absent(cut=cut, other_shards=other), sdk)


def _fetches(config: RunConfig, sdk: list[Case]) -> Callable[[Case], int]:
    """How many image URLs of a case's answer the judging checks GET: once for the checks of
    one exchange (they share a cache), again for each run-scope check (the parity check
    compares the sizes of its own fetches). An answer the upstream was asked to fail has no
    image; the SDK's probes are judged by the SDK alone."""
    op = config.spec.operation
    fetchers = [c for c in judging_checks(config) if c.fetches]
    probes = {id(c) for c in sdk}

    def fetched(case: Case) -> int:
        if case.streamed(op) or case.field("response_format", op) != URL_FORMAT:
            return 0
        if provoked_fault(case) not in (None, *RECOVERED_FAULTS) or id(case) in probes:
            return 0
        judging = [check for check in fetchers if check.applies(case, op)]
        rounds = any(c.scope != "run" for c in judging) + sum(c.scope == "run" for c in judging)
        return case.images_requested(op) * rounds

    return fetched
