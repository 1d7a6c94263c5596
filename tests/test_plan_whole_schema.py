"""Plans drawn from the whole request schema: every valid-meant body is valid, every member of
an anyOf/oneOf is reached, every negative breaks the schema; an operation the suite cannot
read stops the run."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance.errors import SpecError
from conformance.plan import build_plan
from conformance.plan.coverage import reached
from conformance.spec import Spec, spec_from_dict

PATH = "/v1/images/generations"
REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "maxLength": 4000},
        "model": {"anyOf": [{"type": "string"}, {"type": "string", "enum": ["a", "dall-e-3"]}]},
        "size": {
            "anyOf": [
                {"type": "string", "enum": ["256x256", "1024x1024"]},
                {"type": "string", "pattern": "^[0-9]{2,4}x[0-9]{2,4}$"},
                {"type": "null"},
            ]
        },
        "user": {"type": "string", "format": "email"},
        "tag": {"type": "string", "pattern": "^[a-z]{3}$"},
        "seed": {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 100},
        "moderation": {"type": "string", "not": {"const": "off"}},
        "background": {"type": ["string", "null"], "enum": ["auto", "opaque", None]},
        "output_format": {"type": "string", "enum": ["png", "jpeg"]},
        "output_compression": {"type": "integer", "minimum": 0, "maximum": 100},
        "quality": {"type": "string", "enum": ["low", "high"]},
    },
    "dependentRequired": {"output_compression": ["output_format"]},
    "if": {"properties": {"quality": {"const": "low"}}, "required": ["quality"]},
    "then": {"properties": {"output_format": {"const": "jpeg"}}},
    "oneOf": [
        {"properties": {"kind": {"const": "photo"}}, "required": ["kind"]},
        {"not": {"required": ["kind"]}},
    ],
}


def document(request: Any) -> dict[str, Any]:
    ok = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "styles", "version": "1"},
        "paths": {
            PATH: {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request}},
                    },
                    "responses": {"200": ok},
                }
            }
        },
    }


def spec_of(request: Any) -> Spec:
    return spec_from_dict(document(copy.deepcopy(request)), source="styles")


@pytest.fixture(scope="module")
def styled() -> Spec:
    return spec_of(REQUEST)


@pytest.mark.parametrize("budget", ["smoke", "standard"])
def test_every_valid_meant_body_is_valid(styled: Spec, budget: str) -> None:
    plan = build_plan(styled.find_operation(PATH, "post"), budget_name=budget, max_examples=5)
    checker = Draft202012Validator(REQUEST, format_checker=Draft202012Validator.FORMAT_CHECKER)
    valid = [c for c in plan.cases if c.expect == "success" and c.is_json]
    assert len(valid) > 10
    for case in valid:
        assert checker.is_valid(case.body), (case.id, case.body)
    assert plan.coverage["refused_by_schema"] is not None


def test_every_branch_and_enum_member_is_reached(styled: Spec) -> None:
    plan = build_plan(styled.find_operation(PATH, "post"), budget_name="smoke")
    headline = reached(plan.coverage)["branches"]
    assert headline["total"] == 7
    assert headline["covered"] == headline["total"], plan.coverage["branches"]
    assert any(c.body.get("kind") == "photo" for c in plan.cases if c.expect == "success")
    fields = plan.coverage["fields"]
    assert fields["background"]["missing"] == []
    assert None in fields["background"]["sent"]
    assert fields["quality"]["missing"] == [] and fields["output_format"]["missing"] == []


def test_negatives_break_one_rule_each(styled: Spec) -> None:
    plan = build_plan(styled.find_operation(PATH, "post"), budget_name="smoke")
    checker = Draft202012Validator(REQUEST)
    negatives = [c for c in plan.cases if c.expect == "reject" and c.is_json]
    for case in negatives:
        assert not checker.is_valid(case.body), (case.id, case.body)
    rules = set(plan.coverage["negatives"]["rules"])
    expected = {
        "pattern:tag",
        "multipleOf:seed",
        "not:moderation",
        "dependentRequired:output_compression",
        "minimum:seed",
        "enum:quality",
    }
    assert expected <= rules
    assert not any(rule.startswith("enum:model") for rule in rules)  # an open enum
    assert not any(rule.startswith("format:") for rule in rules)  # an annotation in 2020-12


@pytest.mark.parametrize(
    ("request_schema", "named"),
    [
        ({}, "no prompt"),
        ({"type": "object", "properties": {"model": {"type": "string"}}}, "no prompt"),
    ],
)
def test_an_operation_without_the_fields_stops_the_run(
    request_schema: dict[str, Any], named: str
) -> None:
    op = spec_of(request_schema).find_operation(PATH, "post")
    with pytest.raises(SpecError, match=f"could not interpret the operation .*{named}"):
        build_plan(op, budget_name="smoke")


def test_a_model_the_document_refuses_stops_the_run() -> None:
    closed = copy.deepcopy(REQUEST)
    closed["properties"]["model"] = {"type": "string", "enum": ["gpt-image-1"]}
    closed["required"] = ["prompt", "model"]
    op = spec_of(closed).find_operation(PATH, "post")
    with pytest.raises(SpecError, match="allow the run's model 'dall-e-3'.*--model"):
        build_plan(op, budget_name="smoke", model="dall-e-3")
