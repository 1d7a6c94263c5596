"""Value domains of the request fields, read from the request schema at run time.

A domain is the short list of values a plan sends for a field: every enum value, both
booleans, an integer's minimum / middle / maximum, one sample for free-form fields, and
`ABSENT` for optional fields (the field left out of the body).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from conformance.model import (  # noqa: F401 - re-exported for the plan modules
    MODEL_FIELD,
    PROMPT_FIELD,
    STREAM_FIELD,
    stream_exclusive_fields,
)
from conformance.plan.pairwise import Row, RowFilter
from conformance.spec import Operation

COUNT_FIELD: Final = "n"
_SIZE_VALUE = re.compile(r"^(\d+)x(\d+)$")


class _Absent:
    """Marker for a field left out of the body."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()


def value_key(value: Any) -> str:
    """A canonical text for a body value (`True` and `1` stay apart), `<absent>` for ABSENT."""
    return repr(ABSENT) if value is ABSENT else json.dumps(value, sort_keys=True)


def json_value(value: Any) -> Any:
    """`value` as JSON data for coverage reports (ABSENT becomes "<absent>")."""
    return repr(ABSENT) if value is ABSENT else value


def schema_types(schema: dict[str, Any]) -> list[str]:
    """The JSON types a schema allows (from `type`, else from its enum values)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    return sorted({names.get(type(v), "null") for v in schema.get("enum", [])})


def numeric_bounds(schema: dict[str, Any]) -> tuple[float | None, float | None]:
    """The smallest and largest allowed number (exclusive bounds turned inclusive for ints)."""
    integer = "integer" in schema_types(schema)
    step = 1 if integer else 0
    low: float | None = schema.get("minimum")
    high: float | None = schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        bound = schema["exclusiveMinimum"] + step
        low = bound if low is None else max(low, bound)
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        bound = schema["exclusiveMaximum"] - step
        high = bound if high is None else min(high, bound)
    if integer:
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
    return low, high


def numeric_points(schema: dict[str, Any]) -> list[Any]:
    """Minimum, middle and maximum of a number field (what exists of them)."""
    low, high = numeric_bounds(schema)
    integer = "integer" in schema_types(schema)
    if low is not None and high is not None:
        middle = (low + high) // 2 if integer else (low + high) / 2
        points = [low, middle, high]
    elif low is not None:
        points = [low, low + 1]
    elif high is not None:
        points = [high - 1, high]
    else:
        points = [schema.get("default", 1)]
    return list(dict.fromkeys(int(p) if integer else p for p in points))


def sample_value(name: str, schema: dict[str, Any]) -> Any:
    """One valid value for a free-form field."""
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = (schema_types(schema) or ["string"])[0]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return numeric_points(schema)[0]
    if kind == "array":
        items = [sample_value(name, schema.get("items", {}))]
        return items * max(1, int(schema.get("minItems", 1)))
    if kind == "object":
        return {}
    if kind == "null":
        return None
    text = f"conformance-{name}"
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", len(text)))
    return text.ljust(low, "x")[: max(high, low)]


def field_values(name: str, schema: dict[str, Any]) -> list[Any]:
    """The values a plan covers for one field, without ABSENT."""
    if schema.get("enum"):
        return list(schema["enum"])
    kinds = schema_types(schema)
    if kinds == ["boolean"]:
        return [True, False]
    if kinds and kinds[0] in ("integer", "number"):
        return numeric_points(schema)
    return [sample_value(name, schema)]


def optional_fields(op: Operation) -> list[str]:
    required = set(op.required_fields)
    return [name for name in op.properties if name not in required]


def columns(op: Operation) -> dict[str, list[Any]]:
    """The pairwise columns: every optional field with its values and ABSENT."""
    return {
        name: [*field_values(name, op.field_schema(name)), ABSENT] for name in optional_fields(op)
    }


def stream_compatible(op: Operation) -> RowFilter:
    """A predicate on (partial) rows: a streamed row leaves stream-exclusive fields out."""
    exclusive = stream_exclusive_fields(op)

    def allowed(row: Row) -> bool:
        if row.get(STREAM_FIELD, ABSENT) is not True:
            return True
        return all(row.get(name, ABSENT) is ABSENT for name in exclusive)

    return allowed


def size_families(op: Operation) -> dict[str, tuple[str, str]]:
    """One `WxH` enum value per shape (square, landscape, portrait): family -> (field, value).

    The square family takes its largest value; the others take their first listed value.
    """
    found: dict[str, tuple[str, str, int]] = {}
    for name, schema in op.properties.items():
        for value in schema.get("enum", []):
            match = _SIZE_VALUE.match(str(value))
            if not match:
                continue
            width, height = int(match.group(1)), int(match.group(2))
            family = "square" if width == height else "landscape" if width > height else "portrait"
            area = width * height if family == "square" else 0
            if family not in found or area > found[family][2]:
                found[family] = (name, str(value), area)
    return {family: (name, value) for family, (name, value, _) in found.items()}
