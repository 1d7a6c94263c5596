"""The plan follows the spec: edit the document and the cases change with it."""

from __future__ import annotations

import copy
from typing import Any

from conformance.plan import build_plan
from conformance.spec import Spec, spec_from_dict

PATH = "/openai/openai/deployments/{deployment-id}/images/generations"


def edited(spec: Spec, change: Any) -> Spec:
    raw = copy.deepcopy(spec.raw)
    schema = raw["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    change(schema)
    return spec_from_dict(raw)


def test_new_enum_value_and_lower_maximum(spec: Spec) -> None:
    def change(schema: dict[str, Any]) -> None:
        schema["properties"]["size"]["enum"].append("2048x2048")
        schema["properties"]["n"]["maximum"] = 4

    op = edited(spec, change).operation
    plan = build_plan(op, max_examples=10)
    valid = [c.body for c in plan.cases if c.expect == "success"]
    assert any(b.get("size") == "2048x2048" for b in valid)
    for quality in op.enum("quality"):
        assert any(b.get("size") == "2048x2048" and b.get("quality") == quality for b in valid)
    counts = {b["n"] for b in valid if "n" in b}
    assert max(counts) == 4 and 1 in counts and 2 in counts
    by_rule = {c.rule: c for c in plan.cases if c.expect == "reject"}
    assert by_rule["maximum:n"].body["n"] == 5
    assert any(c.body.get("size") == "2048X2048" for c in plan.cases if c.rule == "enum:size")
    parity = [c for c in plan.cases if "parity:square" in c.tags]
    assert {c.body["size"] for c in parity} == {"2048x2048"}
    default = build_plan(spec.operation, max_examples=10)
    default_valid = [c.body for c in default.cases if c.expect == "success"]
    assert max(b["n"] for b in default_valid if "n" in b) == 10


def test_removed_field_and_new_required_field(spec: Spec) -> None:
    def change(schema: dict[str, Any]) -> None:
        del schema["properties"]["style"]
        schema["properties"]["background"] = {"type": "string", "enum": ["opaque", "transparent"]}
        schema["required"].append("user")

    op = edited(spec, change).operation
    plan = build_plan(op, max_examples=10)
    valid = [c.body for c in plan.cases if c.expect == "success"]
    assert not any("style" in c.body for c in plan.cases if isinstance(c.body, dict))
    assert not any(c.rule and c.rule.endswith(":style") for c in plan.cases)
    assert {b.get("background") for b in valid} >= {"opaque", "transparent", None}
    assert all("user" in b for b in valid)
    assert "required:user" in {c.rule for c in plan.cases}
    validator = op.request_validator()
    assert all(validator.is_valid(b) for b in valid)
