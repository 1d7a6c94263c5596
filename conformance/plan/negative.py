"""Invalid cases: each breaks exactly one rule of the request schema.

Candidates are built from the schema and then judged: a JSON body is kept only when the
request validator rejects it with every error at one place, a raw body only when it does
not parse as JSON. A candidate the schema accepts is never emitted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from jsonschema import Draft202012Validator

from conformance.model import Case
from conformance.plan.candidates import Candidate as Candidate
from conformance.plan.domains import numeric_bounds, sample_value
from conformance.plan.negative_enums import enum_near_misses
from conformance.plan.negative_framing import trailing_data_case
from conformance.plan.negative_rules import assertion_violations, dependency_violations
from conformance.plan.negative_stream import rejected_at_one_place, streamed_negatives
from conformance.spec import Operation
from conformance.spec import escape_pointer as escape_token
from conformance.spec.schema import types as schema_types

WRONG_TYPES: Final[tuple[tuple[str, Any], ...]] = (
    ("string", "x"),
    ("float", 1.5),
    ("integer", 1),
    ("boolean", True),
    ("null", None),
    ("array", []),
    ("object", {}),
)
"""One value of each JSON type; a field gets those its own `type` does not allow."""

NON_OBJECT_BODIES: Final[tuple[tuple[str, Any], ...]] = (
    ("array", []),
    ("string", "x"),
    ("number", 1),
)
NOT_JSON: Final = b"{not json"
OUTSIDE_ENUM: Final = "conformance-not-listed"


def negative_cases(op: Operation, base: dict[str, Any]) -> list[Case]:
    """Every negative the schema supports, derived from `base` (a valid body)."""
    cases = []
    seen: set[str] = set()
    for candidate in _candidates(op, base):
        raw = candidate.raw_body
        key = json.dumps(candidate.body, sort_keys=True) if raw is None else raw.decode("latin-1")
        if key in seen:
            continue  # the same body reached from two rules (an enum near-miss)
        seen.add(key)
        if breaks_one_rule(candidate, op):
            cases.append(
                Case(
                    id=_slug(f"neg-{candidate.rule}-{candidate.label}"),
                    kind="negative",
                    title=candidate.title,
                    expect="reject",
                    body=candidate.body,
                    raw_body=candidate.raw_body,
                    rule=candidate.rule,
                    pointer=candidate.pointer,
                )
            )
    return [*cases, *streamed_negatives(op, cases), trailing_data_case(op, base)]


def breaks_one_rule(candidate: Candidate, op: Operation) -> bool:
    """True when the body is not JSON, or the validator rejects it with errors in one place."""
    if candidate.raw_body is not None:
        try:
            json.loads(candidate.raw_body)
        except ValueError:
            return True
        return False
    return rejected_at_one_place(op, candidate.body)


def _candidates(op: Operation, base: dict[str, Any]) -> Iterator[Candidate]:
    schema_pointer = op.request_pointer
    yield from _body_shape(op, schema_pointer)
    for name in op.required_fields:
        body = {k: v for k, v in base.items() if k != name}
        title = f"required field {name} missing"
        yield Candidate(f"required:{name}", f"{schema_pointer}/required", "missing", title, body)
    for name, schema in op.properties.items():
        pointer = op.field_pointer(name)
        yield from _wrong_types(name, schema, base, pointer)
        yield from _enum_violations(name, schema, base, pointer)
        yield from _bound_violations(name, schema, base, pointer)
        yield from _length_violations(name, schema, base, pointer)
        yield from _item_violations(name, schema, base, pointer)
        yield from assertion_violations(name, schema, base, pointer)
    yield from dependency_violations(op, base)
    yield from (Candidate(*fields) for fields in enum_near_misses(op, base))


def _body_shape(op: Operation, schema_pointer: str) -> Iterator[Candidate]:
    body_pointer = f"{op.pointer}/requestBody"
    media = f"{body_pointer}/content/{escape_token(op.request_media_type)}"
    yield Candidate("body:json", media, "text", "body is not JSON", raw_body=NOT_JSON)
    if op.request_required:
        required = f"{body_pointer}/required"
        yield Candidate("body:required", required, "empty", "empty body", raw_body=b"")
    for label, body in NON_OBJECT_BODIES:
        title = f"body is a JSON {label}"
        yield Candidate("body:type", f"{schema_pointer}/type", label, title, body)


def _wrong_types(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    if "type" not in schema:
        return
    only_type = Draft202012Validator({"type": schema["type"]})
    seen: set[str] = set()
    for label, value in (*WRONG_TYPES, *_confusions(name, schema)):
        shown = json.dumps(value)
        if shown in seen or only_type.is_valid(value):
            continue
        seen.add(shown)
        title = f"{name} as {label} ({shown})"
        yield Candidate(f"type:{name}", f"{pointer}/type", label, title, {**base, name: value})


def _confusions(name: str, schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values lenient parsers take for the field's type: a valid value written as a string
    (`"1"`, `"true"`) or wrapped in an array (`[1]`)."""
    kinds = set(schema_types(schema))
    valid = sample_value(name, schema)
    if kinds & {"integer", "number"} and isinstance(valid, (int, float)):
        yield "numeric-string", json.dumps(valid)
    if "boolean" in kinds:
        yield "boolean-string", "true"
    if kinds and not kinds & {"array", "object"}:
        yield "wrapped-in-array", [valid]


def _enum_violations(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    listed = schema.get("enum")
    if not listed or schema.get("openEnum"):
        return  # an open enum (OpenAI's `anyOf: [{type: string}, {enum}]`) takes any string
    outside: list[Any] = []
    for value in listed:
        if isinstance(value, str):
            outside.extend((value.upper(), value.capitalize()))
    strings = [v for v in listed if isinstance(v, str)]
    numbers = [v for v in listed if isinstance(v, (int, float)) and not isinstance(v, bool)]
    booleans = [v for v in listed if isinstance(v, bool)]
    outside.extend(not v for v in booleans)  # a boolean narrowed to one value: the other one
    if strings:
        outside.append(OUTSIDE_ENUM)
    if numbers:
        outside.append(max(numbers) + 1)
    for value in dict.fromkeys(v for v in outside if v not in listed):
        title = f"{name}={json.dumps(value)} is not in the enum"
        yield Candidate(f"enum:{name}", f"{pointer}/enum", str(value), title, {**base, name: value})


def _bound_violations(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    kinds = set(schema_types(schema))
    if not kinds & {"integer", "number"}:
        return
    low, high = numeric_bounds(schema)
    step = 1 if "integer" in kinds else 0.5
    if low is not None:
        keyword = "minimum" if "minimum" in schema else "exclusiveMinimum"
        value = _number(low - step)
        title = f"{name}={value} is below {keyword} {schema[keyword]}"
        yield Candidate(
            f"{keyword}:{name}", f"{pointer}/{keyword}", str(value), title, {**base, name: value}
        )
    if high is not None:
        keyword = "maximum" if "maximum" in schema else "exclusiveMaximum"
        value = _number(high + step)
        title = f"{name}={value} is above {keyword} {schema[keyword]}"
        yield Candidate(
            f"{keyword}:{name}", f"{pointer}/{keyword}", str(value), title, {**base, name: value}
        )


def _length_violations(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    limits = (
        ("minLength", -1, "string"),
        ("maxLength", 1, "string"),
        ("minItems", -1, "array"),
        ("maxItems", 1, "array"),
    )
    for keyword, delta, kind in limits:
        if keyword not in schema or kind not in schema_types(schema):
            continue
        size = int(schema[keyword]) + delta
        if size < 0:
            continue
        if kind == "string":
            value: Any = "x" * size
        else:
            value = [sample_value(name, schema.get("items", {}))] * size
        title = f"{name} of length {size} breaks {keyword} {schema[keyword]}"
        yield Candidate(
            f"{keyword}:{name}", f"{pointer}/{keyword}", str(size), title, {**base, name: value}
        )


def _item_violations(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    items = schema.get("items")
    if "array" not in schema_types(schema) or not isinstance(items, dict) or "type" not in items:
        return
    only_type = Draft202012Validator({"type": items["type"]})
    for label, value in WRONG_TYPES:
        if not only_type.is_valid(value):
            title = f"{name} item as {label} ({json.dumps(value)})"
            body = {**base, name: [value]}
            yield Candidate(f"items:{name}", f"{pointer}/items/type", label, title, body)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")
