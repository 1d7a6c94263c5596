"""Every document the suite cannot use ends as one line and exit 2, within seconds."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from spec_docs import document, operation, write

from conformance import cli
from conformance.errors import SpecError
from conformance.spec import load, load_spec


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", "off")


def _error(location: str | Path, **kwargs: str) -> str:
    started = time.monotonic()
    with pytest.raises(SpecError) as caught:
        load_spec(str(location), **kwargs)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_no_such_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert str(missing) in _error(missing) and "no such file" in _error(missing)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("openapi: 3.1.0\npaths:\n  /x: [unclosed\n", encoding="utf-8")
    message = _error(path)
    assert str(path) in message and "not valid YAML/JSON" in message and "line" in message


def test_a_document_that_is_not_openapi_3(tmp_path: Path) -> None:
    path = write(tmp_path, "swagger.yaml", {"swagger": "2.0", "paths": {}})
    message = _error(path)
    assert "#/openapi" in message and "not an OpenAPI 3.0 or 3.1 document" in message


def test_an_unresolvable_ref_names_where_it_stands(tmp_path: Path) -> None:
    broken = operation(request={"$ref": "#/components/schemas/Missing"})
    path = write(tmp_path, "doc.yaml", document({"/images/generations": {"post": broken}}))
    message = _error(path, operation="createImage")
    assert str(path) in message and "#/components/schemas/Missing" in message
    assert "/requestBody/content/application~1json/schema" in message


def test_a_ref_to_a_missing_file_names_the_file(tmp_path: Path) -> None:
    broken = operation(request={"$ref": "schemas/request.yaml#/Request"})
    path = write(tmp_path, "doc.yaml", document({"/images/generations": {"post": broken}}))
    message = _error(path, operation="createImage")
    assert "request.yaml" in message and "no such file" in message


def test_a_ref_cycle_without_base_case(tmp_path: Path) -> None:
    components = {
        "schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"allOf": [{"$ref": "#/components/schemas/A"}]},
        }
    }
    doc = document(
        {"/images/generations": {"post": operation(request={"$ref": "#/components/schemas/A"})}},
        components=components,
    )
    message = _error(write(tmp_path, "doc.yaml", doc), operation="createImage")
    assert "cycle with no base case" in message and "#/components/schemas/A" in message


def test_a_50_mb_document_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: its size is all that is looked at
    assert "larger than the" in _error(path)


def test_ten_thousand_operations_are_refused(tmp_path: Path) -> None:
    tiny = {"post": {"responses": {"200": {"description": "ok"}}}}
    doc = document({f"/op{i}": tiny for i in range(10_000)})
    compact = tmp_path / "many.json"  # one line: counted once parsed
    compact.write_text(json.dumps(doc), encoding="utf-8")
    assert "more than 2,000 operations" in _error(compact)
    paths = "".join(f"  /op{i}:\n    post:\n      responses: {{}}\n" for i in range(10_000))
    text = tmp_path / "many.yaml"  # counted before it is parsed
    text.write_text(f"openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n{paths}")
    assert "more than 2,000 operations" in _error(text)


def test_no_image_operation_names_the_document(tmp_path: Path) -> None:
    doc = document({"/chat": {"post": operation(request={"properties": {"messages": {}}})}})
    path = write(tmp_path, "chat.yaml", doc)
    message = _error(path)
    assert str(path) in message and "no image-generation operation" in message


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback socket that takes connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/openapi.yaml"
    finally:
        server.close()


def test_a_url_that_never_answers(silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "FETCH_TIMEOUT_S", 0.5)
    message = _error(silent_server)
    assert silent_server in message and "no answer within 0.5 s" in message


def test_the_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("openapi: [", encoding="utf-8")
    for argv in (["checks", "--spec", str(path)], ["run", "--spec", str(path), "--dry-run"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(path) in err, err


@pytest.mark.parametrize(
    "broken",
    [
        {"requestBody": ["not", "an", "object"], "responses": {}},
        {"requestBody": {"content": {"application/json": ["x"]}}, "responses": "none"},
        {
            "requestBody": {"content": {"application/json": {"schema": {}}}},
            "responses": {"200": []},
        },
        {"parameters": ["deployment-id"], "responses": {"200": {"content": {"a/b": 3}}}},
    ],
    ids=["body-list", "media-list", "response-list", "parameter-string"],
)
def test_an_operation_of_the_wrong_shapes_never_raises_anything_else(
    tmp_path: Path, broken: dict[str, object]
) -> None:
    path = write(tmp_path, "doc.yaml", document({"/images/generations": {"post": broken}}))
    try:
        op = load_spec(str(path), operation="POST /images/generations", validate=False).operation
    except SpecError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert op.path == "/images/generations"


def test_a_deeply_nested_document(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nested too deeply" in _error(path)
