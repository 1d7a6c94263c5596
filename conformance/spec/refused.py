"""What a narrowing turns from valid into must-refuse, said in words.

`--narrow 'n<=1'` fits the spec to one deployment's model, and with it a gateway that accepts
`n=2` (valid in the full spec) fails ERR-INVALID-REJECTED. That is right for a dall-e-3
deployment and a trap for a gateway that serves every model: the plan says so up front.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.spec import Operation

BOOLEANS = (True, False)


def newly_refused(before: Operation, after: Operation) -> list[str]:
    """One sentence per field whose valid values `after` (narrowed) has fewer of than
    `before`: `"n=2..10 is now expected to be refused"`."""
    lines = []
    for name, schema in before.properties.items():
        narrowed = after.field_schema(name)
        lost = [_text(v) for v in _lost_values(schema, narrowed)]
        lost += _lost_ranges(schema, narrowed)
        if lost:
            verb = "is" if len(lost) == 1 else "are"
            listed = ", ".join(f"{name}={v}" for v in lost)
            lines.append(f"{listed} {verb} now expected to be refused")
    return lines


def _lost_values(schema: dict[str, Any], narrowed: dict[str, Any]) -> list[Any]:
    if schema.get("type") == "boolean" and "enum" not in schema:
        allowed: list[Any] = list(BOOLEANS)
    else:
        allowed = list(schema.get("enum", []))
    kept = narrowed.get("enum")
    if kept is None:
        return []
    return [v for v in allowed if v not in kept]


def _lost_ranges(schema: dict[str, Any], narrowed: dict[str, Any]) -> list[str]:
    """The numbers the narrowed bounds cut off, as `2`, `2..10` or `>=11`."""
    integer = schema.get("type") == "integer"
    step = 1 if integer else 0
    parts = []
    high, new_high = schema.get("maximum"), narrowed.get("maximum")
    if new_high is not None and (high is None or new_high < high):
        parts.append(_span(new_high + step, high) if integer else f">{new_high}")
    low, new_low = schema.get("minimum"), narrowed.get("minimum")
    if new_low is not None and (low is None or new_low > low):
        parts.append(_span(low, new_low - step) if integer else f"<{new_low}")
    return parts


def _span(start: int | None, end: int | None) -> str:
    if start is None:
        return f"<={end}"
    if end is None:
        return f">={start}"
    return str(start) if start == end else f"{start}..{end}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
