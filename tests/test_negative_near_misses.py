"""Enum near misses and invalid streamed requests, derived from the document."""

from __future__ import annotations

import copy
import json
from typing import Any

from conformance.model import STREAM_FIELD, TRAILING_DATA
from conformance.plan.negative import negative_cases
from conformance.plan.negative_enums import enum_sites, near_misses, place
from conformance.plan.positive import base_body
from conformance.spec import Spec, spec_from_dict


def _nested_spec(spec: Spec) -> Spec:
    """The seed document with an enum inside an array's items and one inside a branch."""
    raw: dict[str, Any] = copy.deepcopy(spec.raw)
    post = next(iter(raw["paths"].values()))["post"]
    props = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    props["tags"] = {"type": "array", "items": {"type": "string", "enum": ["Warm", "cool"]}}
    props["mood"] = {"anyOf": [{"type": "string", "enum": ["calm"]}, {"type": "integer"}]}
    return spec_from_dict(raw)


def test_near_misses_pad_and_change_case_but_never_hit_a_member() -> None:
    found = dict(near_misses(("hd", "standard", "HD2")))
    assert found["padded-left"] == " hd" and found["padded-right"] == "HD2 "
    assert found["case-hd"] == "HD" and "case-HD2" in found
    assert not set(found.values()) & {"hd", "standard", "HD2"}
    assert list(near_misses((1, 2))) == []


def test_every_enum_of_the_document_is_found(spec: Spec) -> None:
    op = spec.operation
    names = {site.name for site in enum_sites(op)}
    listed = {n for n, s in op.properties.items() if s.get("enum")}
    assert listed and listed <= names
    nested = _nested_spec(spec).operation
    sites = {site.name: site for site in enum_sites(nested)}
    assert sites["tags.[]"].members == ("Warm", "cool")
    assert sites["mood"].members == ("calm",)
    assert place({"a": 1}, ("tags", 0), "x") == {"a": 1, "tags": ["x"]}


def test_padded_members_are_negatives_of_every_enum(spec: Spec) -> None:
    nested = _nested_spec(spec).operation
    cases = negative_cases(nested, base_body(nested, "m"))
    by_id = {c.id: c for c in cases}
    for name in ("size", "quality", "tags.-", "mood"):
        padded = [c for c in cases if c.id.startswith(f"neg-enum-{name}") and "padded" in c.id]
        assert padded, (name, sorted(by_id))
    assert by_id["neg-enum-tags.-padded-left"].body["tags"] == [" Warm"]
    assert len(by_id) == len(cases)


def test_each_rule_family_is_also_sent_streamed(spec: Spec) -> None:
    op = spec.operation
    cases = negative_cases(op, base_body(op, "m"))
    streamed = [c for c in cases if isinstance(c.body, dict) and c.body.get(STREAM_FIELD) is True]
    families = {c.rule.partition(":")[0] for c in streamed if c.rule}
    assert {"required", "type", "enum", "minimum", "maximum"} <= families
    for c in streamed:
        assert c.expect == "reject"
        assert not op.request_validator().is_valid(c.body)


def test_a_body_with_trailing_data_is_planned_once(spec: Spec) -> None:
    op = spec.operation
    found = [c for c in negative_cases(op, base_body(op, "m")) if TRAILING_DATA in c.tags]
    assert len(found) == 1 and found[0].raw_body is not None
    head, _, tail = found[0].raw_body.partition(b"}")
    assert op.request_validator().is_valid(json.loads(head + b"}")) and tail.strip()
