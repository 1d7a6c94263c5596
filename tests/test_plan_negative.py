"""Negative cases: one per rule the schema states, each judged by the validator."""

from __future__ import annotations

import json

import pytest

from conformance.plan import build_plan
from conformance.plan.negative import Candidate, breaks_one_rule, negative_cases
from conformance.plan.negative_stream import STREAMED_SUFFIX
from conformance.plan.positive import base_body
from conformance.spec import Operation, Spec


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operation


@pytest.fixture(scope="module")
def negatives(op: Operation) -> list:
    return [c for c in build_plan(op, max_examples=0).cases if c.expect == "reject"]


def test_each_rule_of_the_schema_yields_a_case(op: Operation, negatives: list) -> None:
    rules = {c.rule for c in negatives}
    schema = op.request_schema
    for name in schema["required"]:
        assert f"required:{name}" in rules
    for name, field in schema["properties"].items():
        assert f"type:{name}" in rules
        if "enum" in field:
            assert f"enum:{name}" in rules
        if "minimum" in field:
            assert f"minimum:{name}" in rules
        if "maximum" in field:
            assert f"maximum:{name}" in rules
        if field.get("type") == "array":
            assert f"items:{name}" in rules
    assert {"body:json", "body:required", "body:type"} <= rules


def test_letter_case_variants_are_outside_the_enum(negatives: list) -> None:
    values = {c.body.get("quality") for c in negatives if c.rule == "enum:quality"}
    assert "HD" in values
    sizes = {c.body.get("size") for c in negatives if c.rule == "enum:size"}
    assert "Auto" in sizes


def test_bounds_and_shapes(op: Operation, negatives: list) -> None:
    field = op.field_schema("n")
    by_rule = {c.rule: c for c in negatives}
    assert by_rule["minimum:n"].body["n"] == field["minimum"] - 1
    assert by_rule["maximum:n"].body["n"] == field["maximum"] + 1
    n_types = [c.body["n"] for c in negatives if c.rule == "type:n"]
    assert 1.5 in n_types and None in n_types and "x" in n_types
    assert not any(isinstance(v, float) and v.is_integer() for v in n_types)
    raw = {c.raw_body for c in negatives if c.raw_body is not None and c.rule != "body:trailing"}
    assert raw == {b"{not json", b""}
    shapes = [c.body for c in negatives if c.rule == "body:type"]
    assert [] in shapes and "x" in shapes and 1 in shapes
    assert [1] in [c.body.get("fallbacks") for c in negatives if c.rule == "items:fallbacks"]


def test_no_negative_is_valid_and_pointers_resolve(spec: Spec, negatives: list) -> None:
    for case in negatives:
        assert case.images_requested(spec.operation) == 0
        node = spec.raw
        for token in case.pointer.lstrip("#/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        assert node is not None, case.pointer


def test_the_validator_is_the_judge(op: Operation) -> None:
    base = base_body(op, "dall-e-3")
    integral_float = Candidate("type:n", "#", "2.0", "n as 2.0", {**base, "n": 2.0})
    unknown_field = Candidate("extra", "#", "x", "unknown field", {**base, "x-extra": 1})
    assert not breaks_one_rule(integral_float, op)
    assert not breaks_one_rule(unknown_field, op)
    assert breaks_one_rule(Candidate("type:n", "#", "s", "n as text", {**base, "n": "2"}), op)
    two_rules = {k: v for k, v in base.items() if k != "model"} | {"n": 0}
    assert not breaks_one_rule(Candidate("two", "#", "two", "two rules", two_rules), op)
    assert all(
        json.dumps(c.body) != json.dumps({**base, "n": 2.0}) for c in negative_cases(op, base)
    )


def test_type_confusions_lenient_parsers_accept(op: Operation, negatives: list) -> None:
    by_field: dict[str, list] = {}
    for c in negatives:
        if c.rule and c.rule.startswith("type:") and not c.id.endswith(STREAMED_SUFFIX):
            by_field.setdefault(c.rule.removeprefix("type:"), []).append(c.body[c.rule[5:]])
    assert "1" in by_field["n"] and [1] in by_field["n"] and True in by_field["n"]
    stream = by_field["stream"]
    assert "true" in stream and 1 in stream and [False] in stream
    assert 1 in by_field["prompt"] and None in by_field["prompt"]
    assert all(None in values for values in by_field.values())  # null for every typed field
    for values in by_field.values():  # each value once per field
        assert len({json.dumps(v) for v in values}) == len(values)
    assert not any(isinstance(v, float) and v.is_integer() for v in by_field["n"])
