"""Invalid requests that ask for a stream.

An invalid request stays invalid when it says `stream: true`: it gets the 400 error envelope
as JSON, not a 200 `text/event-stream` carrying an `error` event (rulings, Inputs and
statuses). A gateway that opens the stream before it validates shows it only on these.
One case per rule family (the keyword before `:` of a negative's rule) is sent again with
`stream: true`, kept only while it still breaks its one rule.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from jsonschema import Draft202012Validator

from conformance.model import STREAM_FIELD, Case
from conformance.spec import Operation

STREAMED_SUFFIX: Final = "-stream"


def rejected_at_one_place(op: Operation, body: Any) -> bool:
    """The request validator rejects `body`, every error at one place."""
    errors = list(op.request_validator().iter_errors(body))
    return bool(errors) and len({tuple(e.absolute_path) for e in errors}) == 1


def streamed_negatives(op: Operation, negatives: list[Case]) -> list[Case]:
    """The first JSON-object negative of each rule family, again with `stream: true`."""
    if not _can_stream(op):
        return []
    families: set[str] = set()
    streamed = []
    for case in negatives:
        family = (case.rule or "").partition(":")[0]
        if family in families or not _streamable(case):
            continue
        body = {**case.body, STREAM_FIELD: True}
        if not rejected_at_one_place(op, body):
            continue
        families.add(family)
        streamed.append(
            replace(
                case,
                id=case.id + STREAMED_SUFFIX,
                title=f"{case.title}, with stream: true",
                body=body,
            )
        )
    return streamed


def _streamable(case: Case) -> bool:
    rule_field = (case.rule or "").partition(":")[2]
    return (
        isinstance(case.body, dict)
        and case.raw_body is None
        and STREAM_FIELD not in case.body
        and rule_field != STREAM_FIELD
    )


def _can_stream(op: Operation) -> bool:
    schema = op.field_schema(STREAM_FIELD)
    return bool(schema) and Draft202012Validator(schema).is_valid(True)
