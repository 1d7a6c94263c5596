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
from conformance.spec.schema import types as schema_types

COUNT_FIELD: Final = "n"
BACKGROUND_FIELD: Final = "background"
OUTPUT_FORMAT_FIELD: Final = "output_format"
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


def grid_bounds(schema: dict[str, Any]) -> tuple[float | None, float | None]:
    """`numeric_bounds` moved inwards onto the `multipleOf` grid, when there is one."""
    low, high = numeric_bounds(schema)
    step = _step(schema)
    if step is not None:
        low = None if low is None else math.ceil(low / step) * step
        high = None if high is None else math.floor(high / step) * step
    return low, high


def _step(schema: dict[str, Any]) -> float | None:
    step = schema.get("multipleOf")
    valid = isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0
    return step if valid else None


def numeric_points(schema: dict[str, Any]) -> list[Any]:
    """Minimum, middle and maximum of a number field (what exists of them), on its
    `multipleOf` grid when it has one."""
    low, high = grid_bounds(schema)
    integer = "integer" in schema_types(schema)
    step = _step(schema)
    if low is not None and high is not None:
        middle = (low + high) // 2 if integer else (low + high) / 2
        if step is not None:
            middle = round(middle / step) * step
        points = [low, middle, high]
    elif low is not None:
        points = [low, low + (step or 1)]
    elif high is not None:
        points = [high - (step or 1), high]
    else:
        points = [schema.get("default", step or 1)]
    return list(dict.fromkeys(int(p) if integer else p for p in points))


def sample_value(name: str, schema: dict[str, Any]) -> Any:
    """One valid value for a free-form field: the default, the first enum member, or a plain
    value of its type; when that breaks the field's schema (a pattern, a format, a `not`),
    one drawn from the schema."""
    value = _plain_sample(name, schema)
    if _valid(value, schema):
        return value
    from conformance.plan.strategies import NO_VALUE, draw_value

    drawn = draw_value(schema)
    return value if drawn is NO_VALUE else drawn


def _plain_sample(name: str, schema: dict[str, Any]) -> Any:
    if "default" in schema:
        return schema["default"]
    listed = [v for v in schema.get("enum", []) if v is not None]
    if listed:
        return listed[0]
    kinds = [k for k in schema_types(schema) if k != "null"] or ["string"]
    kind = kinds[0]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return numeric_points(schema)[0]
    if kind == "array":
        items = [sample_value(name, schema.get("items", {}))]
        return items * max(1, int(schema.get("minItems", 1)))
    if kind == "object":
        return {}
    text = f"conformance-{name}"
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", len(text)))
    return text.ljust(low, "x")[: max(high, low)]


def _valid(value: Any, schema: dict[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    return bool(Draft202012Validator(schema, format_checker=checker).is_valid(value))


def field_values(name: str, schema: dict[str, Any]) -> list[Any]:
    """The values a plan covers for one field, without ABSENT: every enum member, both
    booleans, a number's minimum / middle / maximum, or one sample; and `null` when the
    field is nullable."""
    if schema.get("enum"):
        return list(schema["enum"])
    kinds = schema_types(schema)
    solid = [k for k in kinds if k != "null"]
    values: list[Any]
    if solid == ["boolean"]:
        values = [True, False]
    elif solid and solid[0] in ("integer", "number"):
        values = numeric_points(schema)
    else:
        values = [sample_value(name, schema)]
    if "null" in kinds and solid:
        values.append(None)
    return values


def optional_fields(op: Operation) -> list[str]:
    """The fields a plan varies: those not required, but model and prompt (always sent)."""
    fixed = {*op.required_fields, MODEL_FIELD, PROMPT_FIELD}
    return [name for name in op.properties if name not in fixed]


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


_TRANSPARENT_NEEDS = re.compile(
    r"transparent[^.]*?output[ _]format\W+(?:to|be)\W+(\w+)\W+or\W+(\w+)", re.IGNORECASE
)


def transparent_formats(op: Operation) -> frozenset[str] | None:
    """The output formats `background: transparent` needs, where the document says so in
    words (OpenAI's "When using `transparent`, set the output format to `png` or `webp`");
    None where it does not."""
    schema = op.properties.get(BACKGROUND_FIELD)
    words = " ".join(str(schema.get("description", "")).split()) if schema else ""
    found = _TRANSPARENT_NEEDS.search(words)
    return frozenset(f.lower() for f in found.groups()) if found else None


def compatible(op: Operation) -> RowFilter:
    """A predicate on (partial) rows: what the document allows together. A streamed row
    leaves stream-exclusive fields out; a transparent background goes with an output format
    the document says can hold it (left out: the default)."""
    streamable = stream_compatible(op)
    formats = transparent_formats(op)

    def allowed(row: Row) -> bool:
        if not streamable(row):
            return False
        if formats is None or row.get(BACKGROUND_FIELD, ABSENT) != "transparent":
            return True
        chosen = row.get(OUTPUT_FORMAT_FIELD, ABSENT)
        return chosen is ABSENT or str(chosen).lower() in formats

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
