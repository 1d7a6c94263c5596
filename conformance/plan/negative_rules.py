"""Negatives for the assertions beyond type, enum, bounds and lengths: `pattern`,
`multipleOf`, a value a `not` forbids, and `dependentRequired`.

`format` is left out: in JSON Schema 2020-12 it is an annotation unless a validator opts in,
so a gateway that accepts a value outside it conforms. Each candidate is still judged by the
request validator (`negative.breaks_one_rule`) before it becomes a case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from conformance.plan.candidates import Candidate
from conformance.spec import Operation
from conformance.spec.schema import types as schema_types

NOT_MATCHING: Final = ("", "!", " ", "conformance-does-not-match")
"""Strings that few patterns accept; the first one the pattern refuses is sent."""


def assertion_violations(
    name: str, schema: dict[str, Any], base: dict[str, Any], pointer: str
) -> Iterator[Candidate]:
    """One candidate per assertion of the field that the other families do not break."""
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and "string" in schema_types(schema):
        value = _not_matching(pattern)
        if value is not None:
            title = f"{name}={json.dumps(value)} does not match pattern {pattern}"
            body = {**base, name: value}
            yield Candidate(f"pattern:{name}", f"{pointer}/pattern", "mismatch", title, body)
    step: Any = schema.get("multipleOf")
    if _number(step) and {"integer", "number"} & set(schema_types(schema)):
        yield _off_grid(name, float(step), "integer" in schema_types(schema), base, pointer)
    forbidden = schema.get("not")
    if isinstance(forbidden, dict):
        listed = forbidden.get("enum") or ([forbidden["const"]] if "const" in forbidden else [])
        for value in listed[:1]:
            title = f"{name}={json.dumps(value)} is a value the schema forbids (not)"
            body = {**base, name: value}
            yield Candidate(f"not:{name}", f"{pointer}/not", "forbidden", title, body)


def _off_grid(
    name: str, step: float, integer: bool, base: dict[str, Any], pointer: str
) -> Candidate:
    """The first multiple plus one (integers, steps of 2 or more) or plus half a step."""
    whole = integer and step.is_integer() and step >= 2
    raw = step + (1 if whole else step / 2)
    value: int | float = int(raw) if raw.is_integer() else raw
    title = f"{name}={value} is not a multiple of {step:g}"
    body = {**base, name: value}
    return Candidate(f"multipleOf:{name}", f"{pointer}/multipleOf", str(value), title, body)


def dependency_violations(op: Operation, base: dict[str, Any]) -> Iterator[Candidate]:
    """A body holding a field whose `dependentRequired` partner is missing."""
    depends = op.request_schema.get("dependentRequired")
    if not isinstance(depends, dict):
        return
    from conformance.plan.domains import sample_value

    pointer = f"{op.request_pointer}/dependentRequired"
    for name, needed in depends.items():
        if not isinstance(needed, list) or not needed:
            continue
        body = {k: v for k, v in base.items() if k not in needed}
        body[name] = base.get(name, sample_value(name, op.field_schema(name)))
        title = f"{name} without {', '.join(map(str, needed))} (dependentRequired)"
        yield Candidate(f"dependentRequired:{name}", pointer, "missing", title, body)


def _not_matching(pattern: str) -> str | None:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    return next((text for text in NOT_MATCHING if not compiled.search(text)), None)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
