"""The catalogue: the documented IDs and levels, each with a statement, rationale and pointer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from exchanges import spec

from conformance.checks.registry import Check, catalogue

ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def documented() -> dict[str, str]:
    rows = re.findall(
        r"^\| *\w+ *\| *([A-Z0-9-]+) *\| *(MUST|SHOULD|MAY) *\|$", ARCHITECTURE.read_text(), re.M
    )
    return dict(rows)


def resolve_pointer(pointer: str, document: dict[str, Any]) -> Any:
    node: Any = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_catalogue_matches_the_documented_table() -> None:
    table = documented()
    assert len(table) == 65
    assert {c.id: c.level.value for c in catalogue()} == table


@pytest.mark.parametrize("chk", catalogue(), ids=lambda c: c.id)
def test_each_check_is_described_and_points_into_the_spec(chk: Check) -> None:
    assert chk.statement and "\n" not in chk.statement
    assert chk.rationale and "\n" not in chk.rationale
    assert chk.family in {"protocol", "body", "images", "sse", "errors", "forwarding", "sdk"}
    op = spec().operation
    assert resolve_pointer(chk.spec_pointer(op), spec().raw) is not None
