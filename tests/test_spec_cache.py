"""The resolved operation is kept by content hash, and never outlives what it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_docs import document, operation, write

from conformance.spec import cache, load_spec


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    monkeypatch.setattr(cache, "_MEMORY", {})
    return folder


def _doc(folder: Path, sizes: list[str]) -> Path:
    write(folder, "schemas/size.yaml", {"Size": {"type": "string", "enum": sizes}})
    request = {
        "type": "object",
        "properties": {"prompt": {"type": "string"}, "size": {"$ref": "schemas/size.yaml#/Size"}},
    }
    return write(
        folder, "doc.yaml", document({"/images/generations": {"post": operation(request)}})
    )


def test_a_second_load_reads_the_disk_without_parsing(tmp_path: Path, cache_dir: Path) -> None:
    path = _doc(tmp_path, ["256x256"])
    first = load_spec(str(path))
    assert first.operation.enum("size") == ["256x256"] and len(list(cache_dir.glob("*.json"))) == 1
    cache._MEMORY.clear()  # a new process
    again = load_spec(str(path))
    assert again.operation == first.operation and again._raw is None


def test_a_changed_referenced_file_is_resolved_again(tmp_path: Path, cache_dir: Path) -> None:
    path = _doc(tmp_path, ["256x256"])
    assert load_spec(str(path)).operation.enum("size") == ["256x256"]
    _doc(tmp_path, ["512x512"])  # same root bytes, another size file
    assert load_spec(str(path)).operation.enum("size") == ["512x512"]


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, "off")
    monkeypatch.setattr(cache, "_MEMORY", {})
    assert cache.directory() is None
    assert load_spec(str(_doc(tmp_path, ["256x256"]))).operation.enum("size") == ["256x256"]


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_MEMORY", {})
    monkeypatch.setenv(cache.ENV, "off")
    for i in range(cache.MEMORY_ENTRIES + 10):
        cache.put(f"k{i}", {"files": {}, "i": i})
    assert len(cache._MEMORY) == cache.MEMORY_ENTRIES and "k0" not in cache._MEMORY


def test_an_operations_memos_are_never_stored() -> None:
    """Validators and response-field views are this process's: an entry made after they were
    filled holds neither, and reads back as the same operation."""
    from conformance.spec.document import _entry, _operation

    op = load_spec().operation
    op.request_validator()
    assert op.response_field(200, "application/json", "data")
    stored = _entry(op)
    assert "_validators" not in stored and "_response_fields" not in stored
    assert _operation(stored) == op


def test_a_field_view_is_read_only_for_the_schema_it_was_made_from() -> None:
    """The views are kept by the schema's id; one left by another schema under that id (an
    operation copied with its memos, its old schemas gone) is read again, not trusted."""
    from dataclasses import replace

    op = load_spec().operation
    schema = op.response_schema(200, "application/json")
    assert schema is not None
    stale = replace(op, _response_fields={id(schema): ({}, {})})
    assert stale.response_field(200, "application/json", "data")
    assert stale.response_field(200, "application/json", "data") == op.response_field(
        200, "application/json", "data"
    )
