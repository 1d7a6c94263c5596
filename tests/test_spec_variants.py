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
from conformance.gate import decide
from conformance.model import RANDOM, Status
from conformance.plan import build_plan
from conformance.run import run
from conformance.spec import Spec, load_spec, narrow
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
NARROWING = ["n<=1", "size=1024x1024,1792x1024", "stream=false"]
"""An enum, a bound and a boolean, as `--narrow` fits a document to one model."""


@cache
def variant(name: str) -> Spec:
    return load_spec(VARIANTS_DIR / name)


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
    return decide(result).verdict, {
        c.check_id: c.status for c in result.checks if c.status in failing
    }


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
def test_variant_narrows_as_the_bundled_document(spec: Spec, name: str) -> None:
    narrowed = narrow(variant(name), NARROWING)
    assert narrowed.operation.field_schema("size")["enum"] == ["1024x1024", "1792x1024"]
    assert plan_of(narrowed, "smoke") == plan_of(narrow(spec, NARROWING), "smoke")
    cases = build_plan(narrowed.operation, budget_name="smoke").cases
    valid = next(c.body for c in cases if c.expect == "success" and isinstance(c.body, dict))
    assert not narrowed.operation.request_validator().is_valid({**valid, "n": 2})


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


def test_a_cached_load_keeps_the_document_field_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan follows the fields' order, so the resolved operation read back from the cache
    must list them as the document does."""
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path))
    target = tmp_path / "doc.yaml"
    target.write_text((VARIANTS_DIR / "extras.yaml").read_text(encoding="utf-8"), "utf-8")
    first, again = (list(load_spec(target).operation.properties) for _ in range(2))
    assert first == again
    assert first[:4] == ["model", "prompt", "n", "size"]
