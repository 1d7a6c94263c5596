"""`$ref`s across files and into any part of a document, recursion, and the 3.0 dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from spec_docs import IMAGES, REQUEST, document, operation, write

from conformance.errors import SpecError
from conformance.spec import Operation, load_spec


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", "off")


def _op(folder: Path, doc: dict[str, Any], name: str = "doc.yaml") -> Operation:
    return load_spec(str(write(folder, name, doc))).operation


def test_refs_across_files_are_relative_to_the_referring_file(tmp_path: Path) -> None:
    write(tmp_path, "common/size.yaml", {"Size": {"type": "string", "enum": ["512x512"]}})
    request = {
        "Request": {
            "type": "object",
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string"},
                "size": {"$ref": "../common/size.yaml#/Size"},
            },
        }
    }
    write(tmp_path, "schemas/request.yaml", request)
    write(tmp_path, "schemas/images.json", {"Images": IMAGES})
    op = operation(
        request={"$ref": "schemas/request.yaml#/Request"},
        response={"$ref": "./schemas/images.json#/Images"},
    )
    resolved = _op(tmp_path, document({"/images/generations": {"post": op}}))
    assert resolved.enum("size") == ["512x512"]
    assert "data" in resolved.response_schema(200, "application/json")["properties"]  # type: ignore[index]


def test_pointer_escapes_and_percent_encoding(tmp_path: Path) -> None:
    schemas = {
        "a/b~c": {"type": "string", "enum": ["x"]},
        "with space": {"type": "integer", "minimum": 1},
    }
    request = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string"},
            "size": {"$ref": "#/components/schemas/a~1b~0c"},
            "n": {"$ref": "#/components/schemas/with%20space"},
        },
    }
    op = _op(
        tmp_path,
        document(
            {"/images/generations": {"post": operation(request)}}, components={"schemas": schemas}
        ),
    )
    assert op.enum("size") == ["x"]
    assert op.field_schema("n")["minimum"] == 1


def test_refs_into_examples_and_other_parts(tmp_path: Path) -> None:
    write(tmp_path, "examples/generate.json", {"value": {"prompt": "a cat"}})
    body = operation()
    body["requestBody"]["content"]["application/json"]["examples"] = {
        "cat": {"$ref": "#/components/examples/Cat"},
        "file": {"$ref": "examples/generate.json"},
    }
    body["x-ms-examples"] = {"Generate": {"$ref": "./examples/generate.json"}}
    components = {"examples": {"Cat": {"value": {"prompt": "a cat", "$ref": "data, not a ref"}}}}
    doc = document({"/images/generations": {"post": body}}, components=components)
    path = write(tmp_path, "doc.yaml", doc)
    spec = load_spec(str(path))
    assert spec.operation.properties  # loads; the examples were followed, not refused
    from conformance.spec.resolve import Inliner

    inliner = Inliner(
        doc, path.resolve().as_uri(), lambda uri: {"value": {"prompt": "a cat"}}, "3.1"
    )
    resolved = inliner.at("#/paths/~1images~1generations/post")
    examples = resolved["requestBody"]["content"]["application/json"]["examples"]
    assert examples["cat"]["value"] == {"prompt": "a cat", "$ref": "data, not a ref"}
    assert examples["file"] == {"value": {"prompt": "a cat"}}
    assert resolved["x-ms-examples"]["Generate"] == {"value": {"prompt": "a cat"}}


def test_a_recursive_schema_stays_bounded_and_validates(tmp_path: Path) -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    response = {
        **IMAGES,
        "properties": {**IMAGES["properties"], "tree": {"$ref": "#/components/schemas/Node"}},
    }
    doc = document(
        {"/images/generations": {"post": operation(response=response)}},
        components={"schemas": {"Node": node}},
    )
    op = _op(tmp_path, doc)
    schema = op.response_schema(200, "application/json")
    assert schema is not None and "Node" in schema["$defs"]
    tree = schema["properties"]["tree"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    validator = Draft202012Validator(schema)
    good = {"tree": {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}}
    bad = {"tree": {"children": [{"children": [{"name": 3}]}]}}
    assert validator.is_valid(good) and not validator.is_valid(bad)


def test_a_self_reference_in_place_is_a_cycle(tmp_path: Path) -> None:
    schemas = {"A": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/A"}]}}
    doc = document(
        {"/images/generations": {"post": operation(request={"$ref": "#/components/schemas/A"})}},
        components={"schemas": schemas},
    )
    with pytest.raises(SpecError, match="cycle with no base case"):
        load_spec(str(write(tmp_path, "doc.yaml", doc)), operation="createImage")


def test_openapi_30_is_normalised_to_2020_12(tmp_path: Path) -> None:
    request = {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {
            "model": {"type": "string", "nullable": True, "example": "dall-e-3"},
            "prompt": {"type": "string"},
            "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 10},
            "seed": {"type": "integer", "minimum": 0, "exclusiveMinimum": False},
            "quality": {"type": "string", "enum": ["standard", "hd"], "nullable": True},
            "style": {"allOf": [{"$ref": "#/components/schemas/Style"}], "nullable": True},
        },
    }
    doc = document(
        {"/images/generations": {"post": operation(request)}},
        version="3.0.3",
        components={"schemas": {"Style": {"type": "string", "enum": ["vivid"]}}},
    )
    op = _op(tmp_path, doc)
    assert op.dialect == "3.0"
    assert op.field_schema("model") == {"type": ["string", "null"], "examples": ["dall-e-3"]}
    assert op.field_schema("n") == {"type": "integer", "exclusiveMinimum": 0, "maximum": 10}
    assert op.field_schema("seed") == {"type": "integer", "minimum": 0}
    assert op.enum("quality") == ["standard", "hd", None]
    validator = op.request_validator()
    base = {"model": "m", "prompt": "p"}
    assert not validator.is_valid({**base, "n": 0}) and validator.is_valid({**base, "n": 1})
    assert validator.is_valid({**base, "seed": 0, "model": None, "style": None})
    assert not validator.is_valid({**base, "style": "dull"})
    assert "nullable" not in str(op.request_schema)


def test_openapi_31_ref_siblings_apply(tmp_path: Path) -> None:
    request = {
        **REQUEST,
        "properties": {
            **REQUEST["properties"],
            "n": {"$ref": "#/components/schemas/Count", "maximum": 2},
            "style": {"$ref": "#/components/schemas/Count", "description": "same bounds"},
        },
    }
    schemas = {"Count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "n"}}
    doc = document(
        {"/images/generations": {"post": operation(request)}}, components={"schemas": schemas}
    )
    op = _op(tmp_path, doc)
    assert op.request_schema["properties"]["n"] == {"allOf": [schemas["Count"]], "maximum": 2}
    assert op.field_schema("n") == {**schemas["Count"], "maximum": 2}  # read as one
    assert op.field_schema("style") == {**schemas["Count"], "description": "same bounds"}
    assert not op.request_validator().is_valid({"model": "m", "prompt": "p", "n": 3})
