"""Read a resolved request schema whatever its style: the fields, their enums and bounds.

The same contract can be written many ways: properties listed directly or gathered through
`allOf`, an enum as `enum`, `const`, or a `oneOf`/`anyOf` of `const`, a nullable field as
a type array or as an `anyOf` with `{type: "null"}`, OpenAI's open enums (`anyOf: [{type:
string}, {enum: [...]}]`). (A 3.0 document's `nullable` and boolean bounds are rewritten as
2020-12 when it is loaded; in a 3.1 document `nullable` means nothing, as its validators
read it, so it is not read here either.) This module
reads each field into one flat view (a plain schema dict with `type`, `enum`, bounds,
`default`, ...), so every reader of the operation sees the same thing for the same contract.

A view of an open enum carries `openEnum: true` beside the known values.
A view is for reasoning about a field (which values to cover, which rule to break); what is
valid is still decided by the resolved schema itself, with a validator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from conformance.spec.pointer import escape_pointer

NULL: Final = "null"
_LOWER: Final = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER: Final = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_BRANCHES: Final = ("oneOf", "anyOf")
_CONDITIONAL: Final = ("then", "else")
_PY_TYPES: Final = {bool: "boolean", int: "integer", float: "number", str: "string"}


@dataclass(frozen=True)
class Field:
    """One request field: its flat view and where it sits in the request schema."""

    name: str
    schema: dict[str, Any]
    pointer: str
    """JSON pointer of the field's schema, relative to the request schema (`/properties/n`,
    `/allOf/1/properties/n`, ...)."""
    places: tuple[str, ...] = ()
    """Every place the field's schema is written (allOf members, branches, then/else), first
    `pointer`; what must change there to change the field for every reader and validator."""


@dataclass(frozen=True)
class Branch:
    """One `anyOf`/`oneOf` member of the request schema and the body location it judges."""

    pointer: str
    """Relative to the request schema, e.g. `/properties/size/anyOf/1`."""
    location: tuple[str, ...]
    """The body field names leading to the value it judges (empty: the body itself)."""
    schema: dict[str, Any]


def fields(schema: Any) -> dict[str, Field]:
    """Every property of an object schema, found through allOf (merged), anyOf/oneOf (each
    branch) and if/then/else; in the order first seen."""
    found: dict[str, _Found] = {}
    _collect(schema, "", found, branch=False)
    return {
        name: Field(name, view(f.combined()), f.places[0], tuple(f.places))
        for name, f in found.items()
    }


def required(schema: Any) -> list[str]:
    """The property names every valid body holds: `required` here and in allOf members, and
    the names every anyOf/oneOf branch requires."""
    if not isinstance(schema, dict):
        return []
    names = [n for n in schema.get("required", []) if isinstance(n, str)]
    for part in _members(schema, "allOf"):
        names.extend(required(part))
    for key in _BRANCHES:
        branches = [required(b) for b in _members(schema, key)]
        if branches:
            common = set(branches[0]).intersection(*branches[1:])
            names.extend(n for n in branches[0] if n in common)
    return list(dict.fromkeys(names))


def view(schema: Any) -> dict[str, Any]:
    """The flat view of one field's schema (see the module docstring)."""
    flat = merged(schema)
    if "const" in flat and "enum" not in flat:
        flat["enum"] = [flat["const"]]
    branches = [b for key in _BRANCHES for b in _members(flat, key)]
    for key in _BRANCHES:
        flat.pop(key, None)
    if branches:
        flat = _fold_branches(flat, [view(b) for b in branches])
    if "type" not in flat and flat.get("enum"):
        kinds = sorted({_PY_TYPES.get(type(v), NULL) for v in flat["enum"]})
        flat["type"] = kinds[0] if len(kinds) == 1 else kinds
    return flat


def types(schema: dict[str, Any]) -> list[str]:
    """The JSON types a view allows (from `type`, else from its enum values)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    return sorted({_PY_TYPES.get(type(v), NULL) for v in schema.get("enum", [])})


def branches(schema: Any, pointer: str = "", location: tuple[str, ...] = ()) -> list[Branch]:
    """Every anyOf/oneOf member of a request schema, with the body location it judges
    (through properties, allOf and if/then/else; not inside arrays)."""
    if not isinstance(schema, dict):
        return []
    found: list[Branch] = []
    for key in _BRANCHES:
        for index, member in enumerate(_members(schema, key)):
            here = f"{pointer}/{key}/{index}"
            found.append(Branch(here, location, member if isinstance(member, dict) else {}))
            found.extend(branches(member, here, location))
    for index, member in enumerate(_members(schema, "allOf")):
        found.extend(branches(member, f"{pointer}/allOf/{index}", location))
    for key in _CONDITIONAL:
        if isinstance(schema.get(key), dict):
            found.extend(branches(schema[key], f"{pointer}/{key}", location))
    for name, sub in (schema.get("properties") or {}).items():
        found.extend(
            branches(sub, f"{pointer}/properties/{escape_pointer(name)}", (*location, name))
        )
    return found


def media_schema(entry: dict[str, Any]) -> Any:
    """The schema of one media type's content: `schema`, or (OpenAPI 3.2) the payload its
    `itemSchema` gives each item of a sequence (an event's `data`, see `event_payload`)."""
    if "schema" in entry or "itemSchema" not in entry:
        return entry.get("schema", {})
    return event_payload(entry["itemSchema"])


def event_payload(item: Any) -> Any:
    """The JSON payload schema of a Server-Sent-Events item schema: its `data` property's
    `contentSchema` (a oneOf/anyOf of such items: a oneOf/anyOf of their payloads); an item
    schema without one describes the payload itself."""
    if not isinstance(item, dict):
        return item
    data = (item.get("properties") or {}).get("data")
    if isinstance(data, dict) and isinstance(data.get("contentSchema"), dict):
        return data["contentSchema"]
    for key in _BRANCHES:
        members = _members(item, key)
        payloads = [event_payload(m) for m in members]
        if members and all(p is not m for p, m in zip(payloads, members, strict=True)):
            return {key: payloads}
    return item


def merged(schema: Any) -> dict[str, Any]:
    """`schema` with its allOf members folded in (a boolean schema `true` reads as `{}`)."""
    if not isinstance(schema, dict):
        return {} if schema is not False else {"not": {}}
    flat = {k: v for k, v in schema.items() if k != "allOf"}
    for part in _members(schema, "allOf"):
        flat = _combine(flat, merged(part))
    return flat


@dataclass
class _Found:
    """The raw schemas of one property: those that must all hold, and branch alternatives."""

    places: list[str]
    every: list[Any]
    alternatives: list[Any]

    def combined(self) -> Any:
        parts = list(self.every)
        if self.alternatives:
            parts.append({"anyOf": self.alternatives})
        return parts[0] if len(parts) == 1 else {"allOf": parts}


def _collect(schema: Any, pointer: str, found: dict[str, _Found], branch: bool) -> None:
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        here = f"{pointer}/properties/{escape_pointer(name)}"
        entry = found.setdefault(name, _Found([], [], []))
        entry.places.append(here)
        bucket = entry.alternatives if branch else entry.every
        if sub not in bucket:
            bucket.append(sub)
    for index, member in enumerate(_members(schema, "allOf")):
        _collect(member, f"{pointer}/allOf/{index}", found, branch)
    for key in _BRANCHES:
        for index, member in enumerate(_members(schema, key)):
            _collect(member, f"{pointer}/{key}/{index}", found, True)
    for key in _CONDITIONAL:
        _collect(schema.get(key), f"{pointer}/{key}", found, True)


def _members(schema: dict[str, Any], key: str) -> list[Any]:
    value = schema.get(key)
    return list(value) if isinstance(value, list) else []


def _fold_branches(flat: dict[str, Any], views: list[dict[str, Any]]) -> dict[str, Any]:
    """anyOf/oneOf members read as one field: enum members joined, a `null` member as a type
    array, free members (OpenAI's `{type: string}` beside an enum) leave the enum's values as
    the known ones; a single non-null member's keywords are the field's."""
    nullable = any(types(v) == [NULL] for v in views)
    members = [v for v in views if types(v) != [NULL]]
    kinds = list(dict.fromkeys(t for v in members for t in types(v)))
    if len(members) == 1:
        flat = _combine(flat, members[0])
    elif members and all(v.get("enum") for v in members):
        flat["enum"] = list(dict.fromkeys(x for v in members for x in v["enum"]))
    elif any(v.get("enum") for v in members):
        flat["enum"] = list(dict.fromkeys(x for v in members for x in v.get("enum", [])))
        flat["openEnum"] = True
    if "type" not in flat and kinds:
        flat["type"] = kinds[0] if len(kinds) == 1 else kinds
    if nullable:
        current = types(flat)
        if NULL not in current:
            flat["type"] = [*current, NULL] if current else NULL
        if flat.get("enum") and None not in flat["enum"]:
            flat["enum"] = [*flat["enum"], None]
    return flat


def _combine(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two schemas that must both hold, as one (the stricter bound, the common enum)."""
    out = dict(first)
    for key, value in second.items():
        if key not in out:
            out[key] = value
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = merged({"allOf": [props[name], sub]}) if name in props else sub
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "enum":
            out[key] = [v for v in out[key] if v in value]
        elif key == "type":
            mine = [out[key]] if isinstance(out[key], str) else list(out[key])
            theirs = [value] if isinstance(value, str) else list(value)
            both = [t for t in mine if t in theirs or (t == "number" and "integer" in theirs)]
            out[key] = both[0] if len(both) == 1 else both
        elif key in _LOWER and _number(value) and _number(out[key]):
            out[key] = max(out[key], value)
        elif key in _UPPER and _number(value) and _number(out[key]):
            out[key] = min(out[key], value)
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
