"""Streamed requests whose Accept header does not name `text/event-stream`.

The body's `stream` decides streaming, not the Accept header (rulings, Inputs and statuses):
`stream: true` with `Accept: */*`, or with no Accept header at all, is answered with the
stream. A gateway that negotiates on Accept answers these with one JSON body instead, which
SSE-CONTENT-TYPE flags.
"""

from __future__ import annotations

from typing import Any, Final

from conformance.model import ACCEPT_PREFIX, STREAM_FIELD, Case
from conformance.plan.positive import positive_case
from conformance.spec import Operation

ACCEPTS: Final = (("any", "*/*"), ("none", ""))
"""(label, Accept value); an empty value sends no Accept header."""


def accept_cases(op: Operation, base: dict[str, Any]) -> list[Case]:
    """One streamed request (one image, `base` otherwise) per Accept variant."""
    schema = op.field_schema(STREAM_FIELD)
    if not schema or (schema.get("enum") and True not in schema["enum"]):
        return []
    body = {k: v for k, v in base.items() if k not in ("n", "response_format")}
    body[STREAM_FIELD] = True
    shown = {"any": "Accept: */*", "none": "no Accept header"}
    return [
        positive_case(
            f"stream-accept-{label}",
            f"stream: true with {shown[label]}",
            dict(body),
            op,
            tags=(ACCEPT_PREFIX + value,),
        )
        for label, value in ACCEPTS
    ]
