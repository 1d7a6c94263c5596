"""The same contract written in other legal styles gets the same plan and the same verdicts.

The variants (`tests/data/variants/`, written by `make_variants.py` from the bundled document)
are compared with the bundled document: case by case and coverage for the plan, check by
check for a smoke run against the reference gateway serving the variant, clean and with a
few faults chosen to touch what each style rewrites.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conformance.config import RunConfig
from conformance.model import RANDOM, Status
from conformance.plan import build_plan
from conformance.runner import run
from conformance.spec import Spec, load_spec
from conformance.targets.faults import FAULTS
from conformance.targets.server import running_gateway

VARIANTS_DIR = Path(__file__).parent / "data" / "variants"
VARIANTS = [
    "openapi30-nullable.yaml",
    "allof-request.yaml",
    "oneof-const.yaml",
    "extras.yaml",
    "split/openapi.yaml",
]
FAULTS_BY_VARIANT = {
    "openapi30-nullable.yaml": ["n-above-maximum-clamped", "fractional-n-truncated"],
    "allof-request.yaml": ["missing-model-uses-deployment", "unknown-fields-rejected"],
    "oneof-const.yaml": [
        "uppercase-enum-accepted",
        "partial-event-size-null",
        "sse-event-lines-all-partial",
    ],
    "extras.yaml": ["provider-outside-enum", "api-version-required"],
    "split/openapi.yaml": ["partial-event-size-null", "status-code-200-in-type-errors"],
}
"""Faults that touch what each variant rewrites (its enums, bounds, stream events, ...)."""


@cache
def variant(name: str) -> Spec:
    """The variant loaded; skipped with the reason when this build cannot read its style yet."""
    try:
        spec = load_spec(VARIANTS_DIR / name)
        spec.operation.request_schema  # noqa: B018 - resolve now
    except Exception as exc:  # noqa: BLE001 - the reason is shown in the skip
        pytest.skip(f"{name} does not load in this build: {exc.__class__.__name__}: {exc}")
    bounds = spec.operation.request_schema.get("properties", {}).get("n", {})
    if isinstance(bounds.get("exclusiveMaximum"), bool):
        pytest.skip(f"{name}: the 3.0 dialect is not normalised to 2020-12 in this build")
    return spec


def plan_of(spec: Spec, budget: str) -> tuple[list[Any], dict[str, Any]]:
    """The plan's cases (what is sent and meant) and its coverage, comparable across styles.

    Pointers differ by style, so they are left out; random bodies are drawn from the schema
    as written, so they are compared by count only."""
    plan = build_plan(spec.operation, budget_name=budget)
    cases = [
        (c.id, c.title, c.expect, c.rule, json.dumps(c.body, sort_keys=True), c.tags)
        for c in plan.cases
        if RANDOM not in c.tags
    ]
    random = sum(1 for c in plan.cases if RANDOM in c.tags)
    keys = ("negatives", "parameters", "refused_by_schema")
    coverage = {key: plan.coverage[key] for key in keys}
    if budget == "smoke":
        coverage.update(fields=plan.coverage["fields"], pairs=plan.coverage["pairs"])
    return [*cases, ("random", random)], coverage


def failed(spec: Spec, fault_id: str | None) -> tuple[str, dict[str, str]]:
    """The verdict and the failing checks of a smoke run against the reference gateway."""
    fault = FAULTS[fault_id] if fault_id else None
    with running_gateway(spec, fault) as url:
        result = run(RunConfig(spec=spec, base_url=url, seed=0, budget="smoke"))
    failing = (Status.FAILED.value, Status.ERROR.value)
    return result.gate.verdict, {c.check_id: c.status for c in result.checks if c.status in failing}


@cache
def bundled_failed(fault_id: str | None) -> tuple[str, dict[str, str]]:
    return failed(load_spec(), fault_id)


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("budget", ["smoke", "standard"])
def test_variant_plans_as_the_bundled_document(spec: Spec, name: str, budget: str) -> None:
    cases, coverage = plan_of(variant(name), budget)
    bundled_cases, bundled_coverage = plan_of(spec, budget)
    assert cases == bundled_cases
    assert coverage == bundled_coverage
    assert coverage["refused_by_schema"] == []


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_gets_the_bundled_verdict(name: str) -> None:
    verdict, failing = failed(variant(name), None)
    assert (verdict, failing) == bundled_failed(None)
    assert failing == {}


@pytest.mark.parametrize(
    ("name", "fault_id"), [(n, f) for n, faults in FAULTS_BY_VARIANT.items() for f in faults]
)
def test_variant_flags_a_fault_as_the_bundled_document(name: str, fault_id: str) -> None:
    verdict, failing = failed(variant(name), fault_id)
    assert FAULTS[fault_id].expected_check in failing
    assert (verdict, failing) == bundled_failed(fault_id)
