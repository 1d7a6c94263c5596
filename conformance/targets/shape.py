"""The reference gateway's answers fitted to the loaded document's response schemas.

The reference draws its answers in one shape (Bifrost's). Another document may require fields
the reference does not send (OpenAI's stream events require `background`), or close an enum
the reference's echo falls outside of (a response `quality` of `low | medium | high`). Before a
fault is applied, each answer is fitted: a scalar the schema refuses is dropped when optional,
else replaced by a value the schema allows; a required field that is missing is added; objects
and arrays are fitted member by member, never replaced, so the images stay. For the bundled
document this changes nothing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Final

from conformance.spec.schema import Field, fields, required, types

PREFERRED: Final = ("auto",)
"""Enum members that say "unspecified" in OpenAI's documents: chosen first when a required
field must be filled, so a filled value claims nothing (not `transparent`, not `hd`)."""
_EMPTY: Final = {"string": "", "integer": 0, "number": 0, "boolean": False, "null": None}


def fit(value: Any, schema: Any) -> Any:
    """`value` changed as little as possible to satisfy `schema`'s properties and required."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [fit(item, items) for item in value] if isinstance(items, dict) else value
    if not isinstance(value, dict):
        return value
    schema = _branch_for(value, schema)
    needed, found_fields = _read(schema)
    out = dict(value)
    for name, found in found_fields.items():
        view = found.schema
        if name not in out:
            if name in needed:
                out[name] = sample(view)
            continue
        if _container(out[name]):
            out[name] = fit(out[name], _raw_property(schema, name) or view)
        elif not _allowed(out[name], view):
            if name in needed:
                out[name] = sample(view)
            else:
                del out[name]
    return out


def sample(view: dict[str, Any]) -> Any:
    """A value the view allows: its default, an "unspecified" member, its first member, or the
    plainest value of its first type."""
    if "default" in view and _allowed(view["default"], view):
        return view["default"]
    listed = [v for v in view.get("enum", []) if v is not None]
    preferred = [v for v in listed if v in PREFERRED]
    if preferred or listed:
        return (preferred or listed)[0]
    kinds = [k for k in types(view) if k != "null"] or types(view) or ["string"]
    if kinds[0] == "object":
        return {
            name: sample(f.schema) for name, f in fields(view).items() if name in required(view)
        }
    if kinds[0] == "array":
        return []
    low = view.get("minimum")
    return (
        low
        if kinds[0] in ("integer", "number") and isinstance(low, (int, float))
        else (_EMPTY.get(kinds[0], ""))
    )


_READ: dict[int, tuple[Any, set[str], dict[str, Field]]] = {}
"""Each response schema read once (by identity; the schema is kept so its id stays its own)."""


def _read(schema: dict[str, Any]) -> tuple[set[str], dict[str, Field]]:
    known = _READ.get(id(schema))
    if known is None or known[0] is not schema:
        known = _READ[id(schema)] = (schema, set(required(schema)), fields(schema))
    return known[1], known[2]


def _branch_for(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The oneOf/anyOf member a value is meant for: the one whose `type` field (an event's
    discriminator) lists the value's type; else the schema itself."""
    members = [
        m for key in ("oneOf", "anyOf") for m in schema.get(key) or [] if isinstance(m, dict)
    ]
    kind = value.get("type")
    for member in members:
        named = _read(member)[1].get("type")
        if named is not None and kind in named.schema.get("enum", []):
            return member
    return schema


def _raw_property(schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = (schema.get("properties") or {}).get(name)
    return found if isinstance(found, dict) else None


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _allowed(value: Any, view: dict[str, Any]) -> bool:
    """Whether a scalar satisfies a view's type and (closed) enum."""
    checked = {k: v for k, v in view.items() if k not in ("default", "openEnum")}
    if view.get("openEnum"):
        checked.pop("enum", None)
    return bool(_validator(json.dumps(checked, sort_keys=True, default=str)).is_valid(value))


@lru_cache(maxsize=512)
def _validator(schema: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema))
