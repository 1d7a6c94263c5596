"""Near-miss enum values: members padded with whitespace or written in another case.

JSON Schema compares enum members exactly, so `" 1024x1024"`, `"hd "` and `"HD"` are not
members (rulings, Inputs and statuses); a gateway that trims or folds case before matching
accepts invalid input. Every enum of the request schema is found by walking the document's
schema (properties, array items, composition branches), never from a list of field names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from conformance.spec import Operation
from conformance.spec import escape_pointer as escape_token
from conformance.spec.schema import view

BRANCHES: Final = ("allOf", "anyOf", "oneOf")
ITEM: Final = 0
"""The path step into an array's items."""


@dataclass(frozen=True)
class EnumSite:
    """One enum of the request schema: where it sits in a body, and in the document."""

    path: tuple[str | int, ...]
    pointer: str
    members: tuple[Any, ...]

    @property
    def name(self) -> str:
        return ".".join("[]" if step == ITEM else str(step) for step in self.path)


def enum_sites(op: Operation) -> list[EnumSite]:
    """Every enum reachable in a request body, each site once."""
    found: dict[tuple[str | int, ...], EnumSite] = {}
    _walk(op.request_schema, (), op.request_pointer, found)
    return list(found.values())


def near_misses(members: tuple[Any, ...]) -> Iterator[tuple[str, str]]:
    """(label, value) pairs: a leading and a trailing space around members, and each string
    member in another case; never a member itself."""
    strings = [m for m in members if isinstance(m, str) and m.strip()]
    if not strings:
        return
    candidates = [
        ("padded-left", " " + strings[0]),
        ("padded-right", strings[-1] + " "),
        *((f"case-{m}", m.swapcase()) for m in strings),
    ]
    seen: set[str] = set()
    for label, value in candidates:
        if value not in members and value not in seen:
            seen.add(value)
            yield label, value


def enum_near_misses(
    op: Operation, base: dict[str, Any]
) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    """(rule, pointer, label, title, body) of each near miss of each enum, from `base`."""
    for site in enum_sites(op):
        for label, value in near_misses(site.members):
            title = f"{site.name}={json.dumps(value)} is not in the enum"
            body = place(base, site.path, value)
            yield f"enum:{site.name}", site.pointer, label, title, body


def place(base: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`base` with `value` at `path` (an array step holds one item; the steps below an
    object start from what `base` has there)."""

    def build(current: Any, steps: tuple[str | int, ...]) -> Any:
        if not steps:
            return value
        step, rest = steps[0], steps[1:]
        if step == ITEM and not isinstance(step, bool) and isinstance(step, int):
            return [build(None, rest)]
        inner = dict(current) if isinstance(current, dict) else {}
        inner[str(step)] = build(inner.get(str(step)), rest)
        return inner

    placed = build(base, path)
    return placed if isinstance(placed, dict) else dict(base)


def _walk(
    schema: Any,
    path: tuple[str | int, ...],
    pointer: str,
    found: dict[tuple[str | int, ...], EnumSite],
) -> None:
    if not isinstance(schema, dict) or len(path) > 8:
        return
    read = view(schema)  # an enum written as enum, const, or a oneOf/anyOf of const
    members = None if read.get("openEnum") else read.get("enum")
    if isinstance(members, list) and members and path and path not in found:
        where = f"{pointer}/enum" if "enum" in schema else pointer
        found[path] = EnumSite(path, where, tuple(members))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            _walk(sub, (*path, name), f"{pointer}/properties/{escape_token(name)}", found)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk(items, (*path, ITEM), f"{pointer}/items", found)
    for keyword in BRANCHES:
        branches = schema.get(keyword)
        if isinstance(branches, list):
            for number, branch in enumerate(branches):
                _walk(branch, path, f"{pointer}/{keyword}/{number}", found)
