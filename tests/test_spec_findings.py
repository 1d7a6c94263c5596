"""Lenient validation: findings outside the operation under test are notes, inside it errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_docs import REQUEST, document, operation, write

from conformance.errors import SpecError
from conformance.spec import load_spec


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", "off")


def _doc(request: dict[str, object], version: str = "3.0.3") -> dict[str, object]:
    chat = {"type": "object", "required": ["messages", "messages"], "properties": {}}
    return document(
        {
            "/images/generations": {"post": operation(request)},
            "/chat/completions": {"post": operation({"$ref": "#/components/schemas/Chat"})},
        },
        version=version,
        components={"schemas": {"Chat": chat}},
    )


def test_a_finding_outside_the_operation_is_a_note(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, "doc.yaml", _doc(REQUEST))))
    assert spec.operation.operation_id == "createImage"
    assert any("#/components/schemas/Chat/required" in n for n in spec.notes), spec.notes
    assert all("outside the operation under test" in n for n in spec.notes)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_a_finding_inside_the_operation_names_its_pointer(tmp_path: Path, version: str) -> None:
    broken = {**REQUEST, "required": ["prompt", "prompt"]}
    path = write(tmp_path, "doc.yaml", _doc(broken, version))
    with pytest.raises(SpecError) as caught:
        load_spec(str(path), operation="createImage")
    message = str(caught.value)
    assert str(path) in message and "/requestBody/content/application~1json/schema" in message
    assert "required" in message


def test_without_validation_nothing_is_checked(tmp_path: Path) -> None:
    broken = {**REQUEST, "required": ["prompt", "prompt"]}
    spec = load_spec(str(write(tmp_path, "doc.yaml", _doc(broken))), validate=False)
    # loaded as written (no finding, no note); the field reader names each field once
    assert spec.operation.request_schema["required"] == ["prompt", "prompt"]
    assert spec.operation.required_fields == ["prompt"] and spec.notes == []
