"""Seeds make plans repeatable; the request cap is hard and reports what it cut."""

from __future__ import annotations

import pytest

from conformance.plan import Plan, build_plan
from conformance.spec import Operation, Spec


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operation


@pytest.fixture(scope="module")
def full(op: Operation) -> Plan:
    return build_plan(op, seed=0)


def random_part(plan: Plan) -> list:
    return [(c.id, c.body) for c in plan.cases if "random" in c.tags]


def test_same_seed_same_cases(op: Operation, full: Plan) -> None:
    again = build_plan(op, seed=0)
    assert again.cases == full.cases
    assert [c.id for c in again.cases] == [c.id for c in full.cases]
    assert again.coverage == full.coverage


def test_other_seed_other_random_part(op: Operation, full: Plan) -> None:
    other = build_plan(op, seed=1)
    assert random_part(other) != random_part(full)
    assert len(random_part(other)) == len(random_part(full)) == 25
    fixed = [c for c in full.cases if "random" not in c.tags]
    assert [c for c in other.cases if "random" not in c.tags] == fixed


def test_max_examples_sets_the_random_part(op: Operation) -> None:
    assert len(random_part(build_plan(op, max_examples=3))) == 3
    assert random_part(build_plan(op, max_examples=0)) == []


@pytest.mark.parametrize("cap", [0, 1, 7, 30, 60, 120])
def test_cap_is_never_exceeded(op: Operation, full: Plan, cap: int) -> None:
    plan = build_plan(op, seed=0, max_requests=cap)
    assert len(plan.cases) <= cap
    assert len(plan.cases) + len(plan.cut) == len(full.cases)
    assert set(plan.cut) == {c.id for c in full.cases} - {c.id for c in plan.cases}
    assert plan.coverage["cut"]["cases"] == plan.cut
    assert [c.id for c in plan.cases] == [c.id for c in full.cases if c.id not in plan.cut]


def test_cap_keeps_coverage_critical_cases_first(op: Operation, full: Plan) -> None:
    rules = {c.rule for c in full.cases if c.rule}
    plan = build_plan(op, seed=0, max_requests=70)
    reached = plan.summary()["coverage"]
    assert reached["values"]["covered"] == reached["values"]["total"]
    assert reached["pairs"]["covered"] == reached["pairs"]["total"]
    assert {c.rule for c in plan.cases if c.rule} == rules
    assert not any("random" in c.tags for c in plan.cases)
    assert plan.coverage["cut"]["by_reason"]["random"] == 25

    tiny = build_plan(op, seed=0, max_requests=5)
    assert all(c.id.startswith("pair-") for c in tiny.cases)
    assert tiny.summary()["coverage"]["pairs"]["covered"] < reached["pairs"]["total"]
    missing = [p for p in tiny.coverage["pairs"].values() if p["missing"]]
    assert missing


def test_uncapped_plan_cuts_nothing(full: Plan) -> None:
    assert full.cut == [] and full.summary()["cut"] == 0
