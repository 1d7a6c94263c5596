"""Which operation is tested, where it lives (servers, path parameters) and where the key goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spec_docs import IMAGES, REQUEST, document, operation, write

from conformance.client import Client
from conformance.config import Target, with_base_path
from conformance.errors import SpecError
from conformance.model import Case
from conformance.spec import Operation, load_spec


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", "off")


def _load(folder: Path, doc: dict[str, Any], selector: str | None = None) -> Operation:
    return load_spec(str(write(folder, "doc.yaml", doc)), operation=selector).operation


def _two_image_operations() -> dict[str, Any]:
    other = operation(operationId="generateAzure")
    return document(
        {
            "/images/generations": {"post": operation()},
            "/deployments/{deployment-name}/images/generations": {"post": other},
            "/chat/completions": {"post": operation(request={"properties": {"messages": {}}})},
        }
    )


def test_several_image_operations_are_listed(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, _two_image_operations())
    message = str(caught.value)
    assert "2 image-generation operations" in message and "--operation" in message
    assert "POST /images/generations (createImage)" in message
    assert "POST /deployments/{deployment-name}/images/generations (generateAzure)" in message


@pytest.mark.parametrize(
    "selector", ["generateAzure", "POST /deployments/{deployment-name}/images/generations"]
)
def test_an_operation_is_chosen_by_id_or_method_and_path(tmp_path: Path, selector: str) -> None:
    op = _load(tmp_path, _two_image_operations(), selector)
    assert op.operation_id == "generateAzure" and op.path_parameters == ["deployment-name"]


def test_an_unknown_operation_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="did you mean 'createImage'"):
        _load(tmp_path, _two_image_operations(), "createImag")


def test_the_image_operation_is_found_through_refs_and_composition(tmp_path: Path) -> None:
    schemas = {
        "Base": {"type": "object", "properties": {"model": {"type": "string"}}},
        "Request": {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"properties": {"prompt": {"type": "string"}}},
            ]
        },
        "Images": IMAGES,
    }
    edit = operation(
        request={**REQUEST, "required": ["prompt", "image"]}, operationId="createImageEdit"
    )
    doc = document(
        {
            "/v1/images/edits": {"post": edit},
            "/v1/images/generations": {
                "post": operation(
                    request={"$ref": "#/components/schemas/Request"},
                    response={"$ref": "#/components/schemas/Images"},
                )
            },
        },
        components={"schemas": schemas},
    )
    op = _load(tmp_path, doc)
    assert op.path == "/v1/images/generations"  # the edit needs an input image: not chosen


def test_path_parameters_of_any_name() -> None:
    op = Operation(
        path="/v1/{project}/deployments/{deploymentName}/images",
        method="post",
        operation_id="x",
        parameters=[],
        request_schema={},
        request_media_type="application/json",
        request_required=True,
        responses={},
        pointer="#",
    )
    assert op.path_parameters == ["project", "deploymentName"]
    assert op.render_path("my dep") == "/v1/my%20dep/deployments/my%20dep/images"
    import re

    match = re.search(op.path_regex() + "$", "/base/v1/p/deployments/d1/images")
    assert match is not None and match["deployment"] == "p"


def test_servers_give_the_base_path(tmp_path: Path) -> None:
    servers = [
        {
            "url": "https://{host}/{base}/v1",
            "variables": {"host": {"default": "api.example.com"}, "base": {"default": "openai"}},
        }
    ]
    op = _load(tmp_path, document(servers=servers))
    assert op.base_path == "/openai/v1"
    assert (
        with_base_path("http://127.0.0.1:8080", op.base_path) == "http://127.0.0.1:8080/openai/v1"
    )
    assert with_base_path("http://127.0.0.1:8080/", op.base_path).endswith(":8080/openai/v1")
    assert with_base_path("http://gw/custom", op.base_path) == "http://gw/custom"


@pytest.mark.parametrize(
    ("scheme", "header", "query"),
    [
        ({"type": "apiKey", "in": "header", "name": "X-Api-Key"}, "x-api-key", ""),
        ({"type": "apiKey", "in": "query", "name": "key"}, None, "key=s3cret"),
        ({"type": "http", "scheme": "bearer"}, "authorization", ""),
    ],
)
def test_the_key_goes_where_the_security_scheme_says(
    tmp_path: Path, scheme: dict[str, str], header: str | None, query: str
) -> None:
    doc = document(security=[{"auth": []}], components={"securitySchemes": {"auth": scheme}})
    op = _load(tmp_path, doc)
    with Client(Target(base_url="http://127.0.0.1:9", api_key="s3cret"), op) as client:
        sent = client.build(
            Case(id="c", kind="positive", title="t", expect="success", body={"prompt": "p"})
        )
    assert "api-key" not in sent.headers
    if header:
        value = sent.headers[header]
        assert value == ("Bearer s3cret" if header == "authorization" else "s3cret")
    assert (query in sent.url) if query else "s3cret" not in sent.url


def test_without_security_the_key_is_an_api_key_header(tmp_path: Path) -> None:
    op = _load(tmp_path, document())
    with Client(Target(base_url="http://127.0.0.1:9", api_key="s3cret"), op) as client:
        sent = client.build(
            Case(id="c", kind="positive", title="t", expect="success", body={"prompt": "p"})
        )
    assert sent.headers["api-key"] == "s3cret"


def test_the_settings_file_names_the_operation(tmp_path: Path) -> None:
    from conformance.config import run_config
    from conformance.configfile import load_config

    write(tmp_path, "doc.yaml", _two_image_operations())
    settings = tmp_path / "conformance.toml"
    settings.write_text('spec = "doc.yaml"\noperation = "generateAzure"\n', encoding="utf-8")
    config = run_config(load_config(settings))
    assert config.spec.operation.operation_id == "generateAzure"
    assert config.spec.operation.render_path("d 1") == "/deployments/d%201/images/generations"
