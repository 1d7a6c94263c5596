"""The real documents gateway teams have (OpenAI's 3.1 and 3.0, Bifrost's multi-file docs)
load, their image operation is found, and its request fields are in the resolved schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import cli
from conformance.errors import SpecError
from conformance.spec import Spec, load_spec

THIRD_PARTY = Path(__file__).resolve().parent.parent / "conformance" / "specs" / "third_party"
OPENAI_31 = THIRD_PARTY / "openai" / "openapi.yaml"
OPENAI_30 = THIRD_PARTY / "openai" / "openapi-3.0.yaml"
BIFROST = THIRD_PARTY / "bifrost" / "openapi.yaml"
AZURE = THIRD_PARTY / "azure" / "inference.json"
IMAGE_FIELDS = {"model", "prompt", "n", "size", "quality", "response_format"}
OPENAI_FIELDS = {"style", "stream", "output_format", "background", "moderation"}
OPENAI_FIELDS |= {"output_compression", "partial_images", "user"}


def top_properties(schema: Any) -> dict[str, Any]:
    """The request's top-level properties, through allOf/anyOf/oneOf."""
    found: dict[str, Any] = {}
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            found.update(node.get("properties") or {})
            for key in ("allOf", "anyOf", "oneOf"):
                todo.extend(node.get(key) or [])
    return found


def values(schema: Any, keyword: str = "enum") -> list[Any]:
    """Every value listed under `keyword` anywhere in `schema`."""
    if isinstance(schema, dict):
        own = list(schema.get(keyword) or []) if isinstance(schema.get(keyword), list) else []
        return own + [v for child in schema.values() for v in values(child, keyword)]
    if isinstance(schema, list):
        return [v for child in schema for v in values(child, keyword)]
    return []


@pytest.fixture(scope="module", autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A cache of this module's own: each document is resolved here, not read from a cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path_factory.mktemp("spec-cache")))
        yield


@pytest.fixture(scope="module")
def openai_31() -> Spec:
    return load_spec(str(OPENAI_31))


@pytest.fixture(scope="module")
def openai_30() -> Spec:
    return load_spec(str(OPENAI_30))


def test_openai_31_image_operation_and_fields(openai_31: Spec) -> None:
    op = openai_31.operation
    assert (op.method, op.path, op.operation_id) == ("post", "/images/generations", "createImage")
    assert op.dialect == "3.1" and op.base_path == "/v1" and op.key.location == "bearer"
    fields = top_properties(op.request_schema)
    assert set(fields) >= IMAGE_FIELDS | OPENAI_FIELDS
    size = fields["size"]
    assert "anyOf" in size and {"1024x1024", "1536x1024", "auto"} <= set(values(size))
    assert "$ref" not in str(op.request_schema)
    data = top_properties(op.response_schema(200, "application/json"))["data"]
    assert {"b64_json", "url"} <= set(top_properties(data["items"]))


def test_openai_31_edit_is_chosen_by_name(openai_31: Spec) -> None:
    edit = load_spec(str(OPENAI_31), operation="createImageEdit").operation
    assert edit.path == "/images/edits" and "images" in top_properties(edit.request_schema)
    assert openai_31.operation.path == "/images/generations"


def test_a_second_load_reads_the_cache(openai_31: Spec) -> None:
    again = load_spec(str(OPENAI_31))
    assert again.operation == openai_31.operation and again.sha256 == openai_31.sha256
    assert again.title == "OpenAI API" and again._raw is None  # never parsed


def test_openai_30_is_read_as_2020_12(openai_30: Spec) -> None:
    op = openai_30.operation
    assert op.operation_id == "createImage" and op.dialect == "3.0"
    fields = top_properties(op.request_schema)
    assert IMAGE_FIELDS | {"style", "user"} <= set(fields)
    assert "nullable" not in str(op.request_schema)
    assert "null" in str(fields["n"])  # `nullable: true` became a null alternative
    assert openai_30.notes and all("outside the operation" in n for n in openai_30.notes)


def test_azure_inference_document() -> None:
    spec = load_spec(str(AZURE))
    op = spec.operation
    assert (op.path, op.operation_id) == (
        "/deployments/{deployment-id}/images/generations",
        "ImageGenerations_Create",
    )
    assert op.dialect == "3.0" and op.base_path == "/openai"
    assert (op.key.location, op.key.name) == ("header", "api-key")  # apiKey over OAuth2
    assert op.path_parameters == ["deployment-id"] and op.parameter("api-version") is not None
    fields = top_properties(op.request_schema)
    assert {"prompt", "n", "size", "quality", "style", "response_format", "user"} <= set(fields)
    assert fields["size"]["enum"] == ["1792x1024", "1024x1792", "1024x1024"]
    assert fields["prompt"]["examples"] == ["a corgi in a field"]  # 3.0 `example`
    data = op.response_schema(200, "application/json")["properties"]["data"]  # type: ignore[index]
    assert "b64_json" in data["items"]["properties"]


def test_azure_refs_into_its_examples_files() -> None:
    from conformance.spec.load import parse, read_bytes
    from conformance.spec.resolve import Inliner

    raw = json.loads(AZURE.read_text(encoding="utf-8"))
    inliner = Inliner(raw, AZURE.as_uri(), lambda uri: parse(read_bytes(uri), uri), "3.0")
    op = inliner.at("#/paths/~1deployments~1{deployment-id}~1images~1generations/post")
    example = op["x-ms-examples"]["Create an image."]
    assert example["parameters"]["body"]["style"] == "natural"
    assert any(f.endswith("examples/image_generation.json") for f in inliner.files)


def test_bifrost_multi_file_document(tmp_path: Path) -> None:
    spec = load_spec(str(BIFROST))
    op = spec.operation
    assert (op.path, op.operation_id) == ("/v1/images/generations", "imageGeneration")
    fields = top_properties(op.request_schema)
    assert IMAGE_FIELDS | {"stream", "fallbacks", "output_format"} <= set(fields)
    fallback = fields["fallbacks"]["items"]  # schemas/inference/common.yaml#/Fallback
    assert "openai" in fallback["properties"]["provider"]["enum"]
    error = op.response_schema(400, "application/json")  # ../../openapi.yaml#/components/...
    assert error is not None and "is_bifrost_error" in error["properties"]
    assert any("#/paths/~1v1~1models" in n and "left out" in n for n in spec.notes)


def test_bifrost_several_image_routes_need_operation(tmp_path: Path) -> None:
    images = (THIRD_PARTY / "bifrost" / "paths" / "inference" / "images.yaml").as_uri()
    root = yaml.safe_load(BIFROST.read_text(encoding="utf-8"))
    root["paths"] = {
        "/v1/images/generations": {"$ref": f"{images}#/image-generation"},
        "/openai/v1/images/generations": {"$ref": f"{images}#/image-generation"},
    }
    path = tmp_path / "bifrost.yaml"
    path.write_text(yaml.safe_dump(root), encoding="utf-8")
    with pytest.raises(SpecError, match="2 image-generation operations") as caught:
        load_spec(str(path))
    assert "POST /openai/v1/images/generations (imageGeneration)" in str(caught.value)
    chosen = load_spec(str(path), operation="POST /openai/v1/images/generations").operation
    assert chosen.path == "/openai/v1/images/generations"
    assert "prompt" in top_properties(chosen.request_schema)


def test_the_cli_reads_bifrost_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["checks", "--spec", str(BIFROST), "--operation", "imageGeneration"]) == 0
    assert "IMG" in capsys.readouterr().out


@pytest.mark.parametrize("document", [AZURE, BIFROST], ids=["azure-3.0", "bifrost-multi-file"])
def test_the_operation_stands_alone_as_a_valid_31_document(document: Path) -> None:
    from openapi_spec_validator import validate

    spec = load_spec(str(document))
    alone = spec.standalone()
    validate(alone)  # raises on any finding
    assert alone["openapi"] == "3.1.0" and list(alone["paths"]) == [spec.operation.path]
    assert "$ref" not in json.dumps(alone)


@pytest.mark.parametrize("name", ["openai", "openai-3.0", "azure", "bifrost"])
def test_a_vendored_document_is_named_from_any_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.spec.load import NAMED_SPECS, named_spec

    monkeypatch.chdir(tmp_path)
    path = Path(named_spec(name))
    assert path.is_file() and path.as_posix().endswith(NAMED_SPECS[name])
    (tmp_path / name).write_text("a file of the user's own")
    assert named_spec(name) == name  # a file in the current directory wins
