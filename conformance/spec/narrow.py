"""Narrow a document's request schema to what one deployment's model supports.

A field is read as every other reader reads it (`conformance.spec.schema.fields`: through
allOf, anyOf/oneOf and if/then/else), and its narrowed view is written at every place the
field is written, so the same contract in any style narrows the same.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

from conformance.errors import SpecError
from conformance.spec.document import Spec
from conformance.spec.pointer import replace_at
from conformance.spec.schema import Field, fields, types

NUMBERS = ("integer", "number")


def narrow(spec: Spec, rules: list[str]) -> Spec:
    """The spec with the request schema narrowed to what one deployment's model supports.

    Rules: `FIELD=V1,V2` keeps only those values (an enum, or the booleans `true`/`false`);
    `FIELD<=N` and `FIELD>=N` tighten an integer's bounds. A narrowed value must be one the
    spec allows. Plans and checks then follow the narrowed document like any other.
    """
    if not rules:
        return spec
    op = spec.operation
    schema = copy.deepcopy(op.request_schema)
    for rule in rules:
        field = _narrowed(rule, schema)
        for place in field.places:
            replace_at(schema, place, copy.deepcopy(field.schema))
    raw = copy.deepcopy(spec.raw)
    item = (raw.get("paths") or {}).get(op.path)
    entry = item.get(op.method) if isinstance(item, dict) and "$ref" not in item else None
    if isinstance(entry, dict) and "$ref" not in entry:
        # What the embedded gateway serves follows the narrowed schema too.
        entry["requestBody"] = {
            "required": op.request_required,
            "content": {op.request_media_type: {"schema": schema}},
        }
    narrowed = replace(op, request_schema=schema, _validators={})
    source = f"{spec.source} (narrowed: {'; '.join(rules)})"
    return spec.with_operation(narrowed, raw, source)


def _narrowed(rule: str, schema: dict[str, Any]) -> Field:
    """The field `rule` names, read from `schema`, with its view narrowed by `rule`."""
    match = re.fullmatch(r"\s*([\w-]+)\s*(<=|>=|=)\s*(.+?)\s*", rule)
    if not match:
        raise SpecError(f"--narrow {rule!r}: expected FIELD=V1,V2 or FIELD<=N or FIELD>=N")
    name, op_, text = match.groups()
    found = fields(schema).get(name)
    if found is None:
        raise SpecError(f"--narrow {rule!r}: the request has no field {name!r}")
    view = dict(found.schema)
    if op_ in ("<=", ">="):
        _narrow_bound(rule, name, view, op_, text)
    else:
        _narrow_values(rule, name, view, text)
    return replace(found, schema=view)


def _narrow_bound(rule: str, name: str, field: dict[str, Any], op_: str, text: str) -> None:
    kinds = types(field)
    if not any(kind in NUMBERS for kind in kinds) or field.get("openEnum"):
        raise SpecError(f"--narrow {rule!r}: {name} is not a number")
    try:
        bound: float = int(text) if "number" not in kinds else float(text)
    except ValueError:
        raise SpecError(f"--narrow {rule!r}: {text!r} is not a number") from None
    key, keep = ("maximum", min) if op_ == "<=" else ("minimum", max)
    low, high = field.get("minimum"), field.get("maximum")
    empty = (
        (low is not None and bound < low) if op_ == "<=" else (high is not None and bound > high)
    )
    if empty:
        raise SpecError(f"--narrow {rule!r}: leaves no valid value")
    field[key] = keep(field.get(key, bound), bound)


def _narrow_values(rule: str, name: str, field: dict[str, Any], text: str) -> None:
    values: list[Any] = [v.strip() for v in text.split(",") if v.strip()]
    if "boolean" in types(field):
        if any(v not in ("true", "false") for v in values):
            raise SpecError(f"--narrow {rule!r}: {name} takes true or false")
        values = [v == "true" for v in values]
    elif "enum" not in field:
        raise SpecError(f"--narrow {rule!r}: {name} has no enum to narrow (use <= or >=)")
    allowed = field.get("enum", [True, False])
    # An open enum (any string, some named) allows values beyond the named ones.
    unknown = [] if field.pop("openEnum", False) else [v for v in values if v not in allowed]
    if unknown or not values:
        raise SpecError(f"--narrow {rule!r}: {unknown or 'nothing'} not in the spec's {allowed}")
    field["enum"] = values
    if "default" in field and field["default"] not in values:
        field.pop("default")
