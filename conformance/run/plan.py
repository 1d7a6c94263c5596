"""Phase 1, plan: the cases a run sends, and what `--dry-run` says it would send.

The spec's plan (`conformance.plan.build_plan`) for the run's seed and budget, limited to the
cases the selected checks can judge and to the run's shard (`conformance.select`); plans are
cached per spec and settings, so a shard, a replay or a test builds each one once.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from conformance.checks.registry import REGISTRY, Check, catalogue
from conformance.config import RunConfig
from conformance.gate import Gate
from conformance.model import Case, provoked_fault, upstream_token
from conformance.plan import Plan, build_plan
from conformance.plan.budget import within_cap
from conformance.plan.coverage import plan_coverage
from conformance.plan.presets import preset
from conformance.plan.prices import estimate, load_price_table
from conformance.plan.upstream import RECOVERED_FAULTS, upstream_cases
from conformance.select import in_shard, judgeable, not_applicable, select_checks
from conformance.unjudged import SDK_CHECK, Absent, essential_cases, without_case

URL_FORMAT = "url"  # the response_format value whose images arrive as URLs to fetch
NOT_PLANNED = "not applicable to the document: no case is planned for them"

_PLANS: dict[tuple[object, ...], Plan] = {}
_PLANS_LOCK = threading.Lock()


def make_plan(config: RunConfig) -> Plan:
    """The plan a run with `config` sends: the spec's plan for its seed and budget, limited to
    the cases the selected checks can judge and to the run's shard (`conformance.select`)."""
    return _limited(full_plan(config), config)


def selected_checks(config: RunConfig) -> list[Check]:
    """The checks a run with `config` selects (`--checks`, `--exclude-checks`)."""
    return select_checks(catalogue(), config.checks, config.exclude_checks)


def judging_checks(config: RunConfig) -> list[Check]:
    """The selected checks that judge: one whose subject the document does not declare
    (`conformance.select.not_applicable`) judges nothing: no case is planned or sent for it
    alone, a cap keeps none for it, and the run names it not applicable."""
    checks = selected_checks(config)
    moot = not_applicable(checks, config.spec.operation)
    return [c for c in checks if c.id not in moot]


def _limited(plan: Plan, config: RunConfig) -> Plan:
    if not (config.checks or config.exclude_checks or config.shard):
        return plan
    op = config.spec.operation
    cases, coverage = plan.cases, dict(plan.coverage)
    if config.checks or config.exclude_checks:
        coverage["selection"] = {
            "checks": [c.id for c in selected_checks(config)],
            **coverage.get("selection", {}),
            "note": "only the cases the selected checks can judge are planned (none for one "
            "not applicable to the document), then capped by --max-requests",
        }
        moot = sorted(plan.coverage["not_applicable"])
        if moot:
            coverage["selection"]["not_planned"] = {"checks": moot, "why": NOT_PLANNED}
    if config.shard:
        part = in_shard(cases, config.shard)
        whole = {k: v for k, v in coverage.items() if k not in ("cut", "plan", "selection")}
        coverage.update(plan_coverage(op, part))
        coverage["shard"] = {
            "index": config.shard.index,
            "count": config.shard.count,
            "cases": len(part),
            "plan_cases": len(cases),
            "plan_coverage": whole,
        }
        cases = part
    return dataclasses.replace(plan, cases=cases, coverage=coverage)


def full_plan(config: RunConfig) -> Plan:
    """The whole plan (before the shard is taken), cached per spec and settings."""
    key = (
        config.spec.sha256,
        config.seed,
        config.model,
        config.max_examples,
        config.max_requests,
        config.budget,
        id(config.price_table),
        config.checks,
        config.exclude_checks,
    )
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is None:
            kwargs: dict[str, object] = {
                "seed": config.seed,
                "model": config.model,
                "budget_name": config.budget,
                "prices": config.price_table,
            }
            if config.max_examples is not None:
                kwargs["max_examples"] = config.max_examples
            if config.max_requests is not None:
                kwargs["max_requests"] = config.max_requests
            checks, judging = selected_checks(config), judging_checks(config)
            op = config.spec.operation
            if config.checks or config.exclude_checks:
                # None for a check not applicable to the document: nothing would judge it.
                kwargs["keep"] = lambda case: bool(judgeable([case], judging, op))
            # A cap keeps one case per MUST check first, where it can.
            kwargs["essential"] = lambda cases: essential_cases(cases, judging, op)
            plan = build_plan(config.spec.operation, **kwargs)  # type: ignore[arg-type]
            if plan.cut:
                # The MUST checks the cap left without a case: named in the coverage.
                plan.coverage["cut"]["must_checks_dropped"] = [
                    check_id
                    for check_id in without_case(plan.cases, judging, op)
                    if any(REGISTRY[check_id].applies(c, op) for c in plan.dropped)
                ]
            plan.coverage["not_applicable"] = not_applicable(checks, op)
            _PLANS[key] = plan
        return plan


def chains(cases: list[Case]) -> list[tuple[Case, ...]]:
    """`cases` as the sender's chains, in order: the cases that share one upstream token (one
    correlation id at the upstream, e.g. a body repeated for another deployment) form one
    chain, sent in their order; every other case is a chain of its own, and no chain waits
    for another."""
    grouped: dict[str, list[Case]] = {}
    found: list[list[Case]] = []
    for case in cases:
        token = upstream_token(case)
        if token is not None and token in grouped:
            grouped[token].append(case)
            continue
        found.append([case])
        if token is not None:
            grouped[token] = found[-1]
    return [tuple(chain) for chain in found]


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
    from conformance.run.preview import foreseen

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


def two_sided_cases(config: RunConfig, nonce: str) -> list[Case]:
    """The two-sided cases a run with `config` sends when it reads an upstream's records (its
    shard's part): all of them, or none when no check it judges can judge one (cases sharing a
    token are sent together)."""
    op = config.spec.operation
    cases = in_shard(upstream_cases(op, model=config.model, nonce=nonce), config.shard)
    return cases if judgeable(cases, judging_checks(config), op) else []


def probes_sdk(config: RunConfig) -> bool:
    """Whether a run with `config` sends the official SDK's probes: SDK-COMPAT, the one check
    that reads them, is among the checks it judges."""
    return any(c.id == SDK_CHECK for c in judging_checks(config))


def watches_upstream(config: RunConfig) -> bool:
    """Whether a run with `config` reads an upstream's records (and so sends the two-sided
    cases): one given with --upstream, or the embedded pair (see `conformance.run.target`)."""
    if config.upstream is not None:
        return True
    if config.base_url:
        return False
    from conformance.targets.faults import resolve_fault

    fault = resolve_fault(config.fault)
    return fault is None or fault.family == "forwarding"


def sdk_cases(config: RunConfig) -> list[Case]:
    """The official SDK's probes a run with `config` would send (if the gateway answers)."""
    from conformance.sdk_probe import probe_cases, sdk_installed

    if not sdk_installed() or (config.shard is not None and config.shard.index != 1):
        return []
    if not probes_sdk(config):
        return []
    validator = config.spec.operation.request_validator()
    names = preset(config.budget).sdk_probes
    cases = probe_cases(config.deployment, names)
    return [c for c in cases if isinstance(c.body, dict) and validator.is_valid(c.body)]
