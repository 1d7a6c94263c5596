"""The request schema read whatever its style: the same contract gives the same field views."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.spec.schema import branches, fields, required, view

SIZES = ["256x256", "1024x1024", "auto"]
PLAIN: dict[str, Any] = {
    "type": "object",
    "required": ["model", "prompt"],
    "properties": {
        "model": {"type": "string"},
        "prompt": {"type": "string"},
        "n": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "size": {"type": "string", "enum": SIZES},
    },
}


def _views(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: f.schema for name, f in fields(schema).items()}


def test_plain_schema_reads_as_written() -> None:
    assert _views(PLAIN) == PLAIN["properties"]
    assert required(PLAIN) == ["model", "prompt"]


def test_all_of_gathers_properties_and_required() -> None:
    split = {
        "allOf": [
            {"type": "object", "required": ["model"], "properties": {"model": {"type": "string"}}},
            {
                "type": "object",
                "required": ["prompt"],
                "properties": {k: v for k, v in PLAIN["properties"].items() if k != "model"},
            },
        ]
    }
    assert _views(split) == PLAIN["properties"]
    assert required(split) == ["model", "prompt"]
    assert fields(split)["n"].pointer == "/allOf/1/properties/n"


def test_all_of_on_one_field_takes_the_stricter_bounds() -> None:
    schema = {
        "allOf": [
            {"properties": {"n": {"type": "integer", "minimum": 0, "maximum": 10}}},
            {"properties": {"n": {"minimum": 1, "maximum": 20, "default": 1}}},
        ]
    }
    assert _views(schema)["n"] == {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}


@pytest.mark.parametrize(
    "written",
    [
        {"type": "string", "oneOf": [{"const": s} for s in SIZES]},
        {"anyOf": [{"const": s} for s in SIZES]},
        {"type": "string", "anyOf": [{"enum": SIZES[:2]}, {"const": "auto"}]},
        {"allOf": [{"type": "string"}, {"enum": SIZES}]},
    ],
)
def test_enum_styles_read_as_one_enum(written: dict[str, Any]) -> None:
    assert view(written) == {"type": "string", "enum": SIZES}


def test_open_enum_keeps_the_known_values() -> None:
    found = view({"anyOf": [{"type": "string"}, {"type": "string", "enum": SIZES}]})
    assert found == {"type": "string", "enum": SIZES, "openEnum": True}


@pytest.mark.parametrize(
    "written",
    [
        {"type": ["integer", "null"], "minimum": 1},
        {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
    ],
)
def test_nullable_styles_read_as_a_type_array(written: dict[str, Any]) -> None:
    assert view(written) == {"type": ["integer", "null"], "minimum": 1}


def test_nullable_enum_lists_null() -> None:
    found = view({"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]})
    assert found == {"type": ["string", "null"], "enum": ["a", "b", None]}


def test_nullable_means_nothing_in_2020_12() -> None:
    """A 3.1 document's `nullable` (OpenAI's) is no type array: its validators ignore it."""
    assert view({"type": "integer", "nullable": True}) == {"type": "integer", "nullable": True}


def test_branch_properties_are_found_and_only_common_names_required() -> None:
    schema = {
        "type": "object",
        "required": ["prompt"],
        "properties": {"prompt": {"type": "string"}},
        "oneOf": [
            {
                "required": ["model"],
                "properties": {"model": {"const": "a"}, "x": {"type": "string"}},
            },
            {"required": ["model"], "properties": {"model": {"const": "b"}}},
        ],
    }
    found = _views(schema)
    assert found["model"] == {"type": "string", "enum": ["a", "b"]}
    assert found["x"] == {"type": "string"}
    assert required(schema) == ["prompt", "model"]


def test_branches_name_their_body_location() -> None:
    schema = {
        "properties": {"size": {"anyOf": [{"type": "string"}, {"enum": SIZES}]}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
    }
    found = {(b.pointer, b.location) for b in branches(schema)}
    assert found == {
        ("/oneOf/0", ()),
        ("/oneOf/1", ()),
        ("/properties/size/anyOf/0", ("size",)),
        ("/properties/size/anyOf/1", ("size",)),
    }
