"""Phase 1, plan: the cases a run sends, and what `--dry-run` says it would send.

The spec's plan (`conformance.plan.build_plan`) for the run's seed and budget, limited to the
cases the selected checks can judge and to the run's shard (`conformance.select`); plans are
cached per spec and settings, so a shard, a replay or a test builds each one once.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading

from conformance.checks.registry import REGISTRY, Check, catalogue
from conformance.config import RunConfig
from conformance.model import Case, upstream_token
from conformance.plan import Plan, build_plan
from conformance.plan.coverage import plan_coverage
from conformance.plan.presets import preset
from conformance.plan.upstream import upstream_cases
from conformance.select import in_shard, judgeable, not_applicable, select_checks
from conformance.spec import Operation
from conformance.unjudged import SDK_CHECK, essential_cases, without_case

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


def sending_order(
    two_sided: list[Case], cases: list[Case], op: Operation, *, capped: bool
) -> list[tuple[Case, ...]]:
    """The chains a run sends, in the order they go out. A capped run sends the two-sided
    cases, then the plan's, in the plan's order: that order decides what the cap cuts
    (negatives first: they cost no image). Without a cap the plan's chains go longest first
    (the most images; a stable sort), taking turns with the two-sided ones: a stream of ten
    images started last, or behind a wave of short cases, would end the run alone while the
    other workers idle."""
    found = chains([*two_sided, *cases])
    if capped:
        return found
    first = len(chains(two_sided))  # the plan's cases share no token with them
    rest = sorted(found[first:], key=lambda chain: -sum(c.images_requested(op) for c in chain))
    turns = itertools.zip_longest(found[:first], rest)
    return [chain for pair in turns for chain in pair if chain is not None]


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
    if config.fault is None:
        return True  # the catalogue of faults is not imported for a run without one
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
