"""The default plan covers every value and every pair the spec defines, with valid bodies."""

from __future__ import annotations

import json
from itertools import combinations, product
from typing import Any
from urllib.parse import quote

import pytest

from conformance.plan import Plan, build_plan
from conformance.spec import Operation, Spec

MISSING = object()


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operation


@pytest.fixture(scope="module")
def plan(op: Operation) -> Plan:
    return build_plan(op, seed=0)


def expected_domains(op: Operation) -> dict[str, list[Any]]:
    """Optional fields with a finite domain, read straight from the request schema."""
    raw = op.request_schema
    domains: dict[str, list[Any]] = {}
    for name, schema in raw["properties"].items():
        if name in raw.get("required", []):
            continue
        if "enum" in schema:
            domains[name] = list(schema["enum"])
        elif schema.get("type") == "boolean":
            domains[name] = [True, False]
        elif schema.get("type") == "integer" and "minimum" in schema and "maximum" in schema:
            low, high = schema["minimum"], schema["maximum"]
            domains[name] = [low, (low + high) // 2, high]
    return domains


def not_for_streaming(op: Operation) -> set[str]:
    return {
        name
        for name, schema in op.request_schema["properties"].items()
        if "not supported for streaming" in str(schema.get("description", ""))
    }


def valid_bodies(plan: Plan) -> list[dict[str, Any]]:
    return [c.body for c in plan.cases if c.expect == "success"]


def same(a: Any, b: Any) -> bool:
    """Equal as JSON (so `True` and `1` differ); MISSING equals nothing."""
    if a is MISSING or b is MISSING:
        return False
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_every_enum_boolean_and_bound_value_is_sent(op: Operation, plan: Plan) -> None:
    bodies = valid_bodies(plan)
    for name, values in expected_domains(op).items():
        for value in values:
            assert any(same(b.get(name, MISSING), value) for b in bodies), (name, value)
    assert "auto" in op.enum("size")


def test_every_optional_field_is_both_present_and_absent(op: Operation, plan: Plan) -> None:
    bodies = valid_bodies(plan)
    for name in op.properties:
        if name in op.required_fields:
            assert all(name in b for b in bodies if "unknown-fields" not in b)
            continue
        assert any(name in b for b in bodies), name
        assert any(name not in b for b in bodies), name


def test_every_pair_of_varying_fields_is_sent(op: Operation, plan: Plan) -> None:
    bodies = valid_bodies(plan)
    domains = expected_domains(op)
    exclusive = not_for_streaming(op)
    assert exclusive, "the spec marks response_format as not supported for streaming"
    checked = 0
    for first, second in combinations(domains, 2):
        for a, b in product(domains[first], domains[second]):
            row = {first: a, second: b}
            if row.get("stream") is True and exclusive & set(row):
                continue
            found = any(
                same(x.get(first, MISSING), a) and same(x.get(second, MISSING), b) for x in bodies
            )
            assert found, f"pair {first}={a!r} x {second}={b!r} never sent"
            checked += 1
    assert checked > 100
    pairs = plan.coverage["pairs"]
    assert all(not entry["missing"] for entry in pairs.values())
    assert pairs["size x quality"]["required"] == (len(op.enum("size")) + 1) * 3


def test_positives_pass_and_negatives_fail_the_validator(op: Operation, plan: Plan) -> None:
    validator = op.request_validator()
    for case in plan.cases:
        if case.expect == "success":
            assert case.raw_body is None
            assert validator.is_valid(case.body), case.id
        elif case.raw_body is not None:
            with pytest.raises(ValueError):
                json.loads(case.raw_body)
        else:
            assert not validator.is_valid(case.body), case.id
            assert case.rule and case.pointer and case.kind == "negative"


def test_streamed_cases_leave_response_format_out_but_one(op: Operation, plan: Plan) -> None:
    streamed = [c for c in plan.cases if c.expect == "success" and c.streamed(op)]
    with_format = [c for c in streamed if "response_format" in c.body]
    assert len(streamed) > 10
    assert [c.id for c in with_format] == [
        c.id for c in plan.cases if "stream-response-format" in c.tags
    ]
    assert len(with_format) == 1


def test_parity_pairs_differ_only_in_stream(op: Operation, plan: Plan) -> None:
    groups: dict[str, list[Any]] = {}
    for case in plan.cases:
        for tag in case.tags:
            if tag.startswith("parity:"):
                groups.setdefault(tag, []).append(case)
    families = set()
    for tag, cases in groups.items():
        assert len(cases) == 2, tag
        streamed, plain = sorted(cases, key=lambda c: not c.streamed(op))
        assert streamed.body["stream"] is True and plain.body["stream"] is False
        assert {**streamed.body, "stream": False} == plain.body
        assert streamed.requested_n(op) == 2
        width, height = streamed.body["size"].split("x")
        families.add(width == height)
    assert families == {True, False}


def test_named_situations_are_present(op: Operation, plan: Plan) -> None:
    by_tag = {t: c for c in plan.cases for t in c.tags}
    assert by_tag["unknown-fields"].expect == "success"
    assert set(by_tag["unknown-fields"].body) - set(op.properties)
    assert by_tag["empty-prompt"].body["prompt"] == ""
    assert any(c.omit_api_version and c.expect == "success" for c in plan.cases)
    escaped = [c.deployment for c in plan.cases if c.deployment]
    assert escaped and all(quote(d, safe="") != d for d in escaped)
    prompts = [b["prompt"] for b in valid_bodies(plan) if "prompt" in b]
    assert any(len(p) >= 2000 for p in prompts)
    assert any(any(ord(ch) > 0xFFFF for ch in p) for p in prompts), "emoji"
    assert any(any(0x7F < ord(ch) <= 0xFFFF for ch in p) for p in prompts), "non-ASCII"
    assert any('"' in p for p in prompts) and any("\n" in p for p in prompts)
    assert all(b["model"] == "dall-e-3" for b in valid_bodies(plan))


def test_model_comes_from_the_argument(op: Operation) -> None:
    plan = build_plan(op, seed=3, max_examples=5, model="gpt-image-1")
    assert {b["model"] for b in valid_bodies(plan)} == {"gpt-image-1"}


def test_default_plan_stays_small_and_reports_itself(op: Operation, plan: Plan) -> None:
    summary = plan.summary()
    assert summary["requests"] == len(plan.cases) <= 300
    assert summary["images_requested"] == sum(c.images_requested(op) for c in plan.cases)
    assert 0 < summary["images_requested"] < 500
    assert summary["coverage"]["pairs"]["covered"] == summary["coverage"]["pairs"]["total"]
    assert summary["coverage"]["values"]["covered"] == summary["coverage"]["values"]["total"]
    assert len({c.id for c in plan.cases}) == len(plan.cases)
    json.dumps(plan.coverage)
    json.dumps(summary)
    assert plan.coverage["fields"]["n"]["boundaries_sent"] == {"minimum": True, "maximum": True}


def test_default_plan_sends_openai_extension_fields(op: Operation, plan: Plan) -> None:
    extension = [c for c in plan.cases if c.id.startswith("extension-")]
    fields = {name for c in extension for name in c.body}
    wanted = {"output_format", "background", "output_compression", "partial_images", "moderation"}
    assert wanted <= fields and not wanted & set(op.properties)
    assert any(c.streamed(op) for c in extension)
    assert all(c.expect == "success" and "unknown-fields" in c.tags for c in extension)
