"""Valid cases chosen for coverage: pairwise rows, numeric boundaries and named situations."""

from __future__ import annotations

from typing import Any, Final

from conformance.model import (
    API_VERSION_ABSENT,
    DEPLOYMENT_ESCAPED,
    MODEL_FIELD,
    PARITY_PREFIX,
    PROMPT_FIELD,
    STREAM_FIELD,
    TEXT_PREFIX,
    Case,
    Kind,
    body_tags,
    stream_exclusive_fields,
)
from conformance.plan.domains import (
    ABSENT,
    COUNT_FIELD,
    columns,
    field_values,
    numeric_bounds,
    sample_value,
    schema_types,
    size_families,
    stream_compatible,
)
from conformance.plan.pairwise import covering_array
from conformance.plan.prompts import BASE_PROMPT, TEXT_PROMPTS
from conformance.spec import Operation

API_VERSION_PARAM: Final = "api-version"
DEPLOYMENT_PARAM: Final = "deployment-id"
ESCAPED_DEPLOYMENT: Final = "dall e/3%"
UNKNOWN_FIELD: Final = "x_conformance_unknown"


def base_body(op: Operation, model: str) -> dict[str, Any]:
    """The smallest valid body: required fields only (the run's model, a plain prompt)."""
    body: dict[str, Any] = {}
    for name in op.required_fields:
        if name == MODEL_FIELD:
            body[name] = model
        elif name == PROMPT_FIELD:
            body[name] = BASE_PROMPT
        else:
            body[name] = sample_value(name, op.field_schema(name))
    return body


def positive_case(
    case_id: str,
    title: str,
    body: dict[str, Any],
    op: Operation,
    *,
    kind: Kind = "positive",
    tags: tuple[str, ...] = (),
    **params: Any,
) -> Case:
    """A valid case; tags that follow from the body are added."""
    all_tags = tuple(dict.fromkeys((*tags, *body_tags(body, op))))
    return Case(
        id=case_id,
        kind=kind,
        title=title,
        expect="success",
        body=body,
        pointer=op.request_pointer,
        tags=all_tags,
        **params,
    )


def pairwise_cases(op: Operation, model: str) -> list[Case]:
    """One case per row of the all-pairs covering array of the optional fields."""
    rows = covering_array(columns(op), stream_compatible(op))
    cases = []
    for number, row in enumerate(rows, start=1):
        chosen = {name: value for name, value in row.items() if value is not ABSENT}
        shown = ", ".join(f"{name}={value}" for name, value in chosen.items()) or "defaults"
        body = {**base_body(op, model), **chosen}
        cases.append(positive_case(f"pair-{number:03d}", f"pairwise: {shown}", body, op))
    return cases


def boundary_cases(op: Operation, model: str) -> list[Case]:
    """Each bounded numeric field alone at its minimum and at its maximum."""
    cases = []
    for name, schema in op.properties.items():
        if not {"integer", "number"} & set(schema_types(schema)) or schema.get("enum"):
            continue
        low, high = numeric_bounds(schema)
        for label, value in (("min", low), ("max", high)):
            if value is None:
                continue
            body = {**base_body(op, model), name: value}
            title = f"{name} at its {label}imum ({value})"
            cases.append(
                positive_case(f"boundary-{name}-{label}", title, body, op, kind="boundary")
            )
    return cases


def special_cases(op: Operation, model: str) -> list[Case]:
    """Named situations: parameters, unknown fields, empty and unusual prompts, streaming."""
    base = base_body(op, model)
    cases = []
    api_version = op.parameter(API_VERSION_PARAM)
    if api_version is not None and not api_version.required:
        cases.append(
            positive_case(
                "api-version-absent",
                f"no {API_VERSION_PARAM} query parameter",
                base,
                op,
                omit_api_version=True,
                tags=(API_VERSION_ABSENT,),
            )
        )
    if op.parameter(DEPLOYMENT_PARAM) is not None:
        cases.append(
            positive_case(
                "deployment-escaped",
                f"{DEPLOYMENT_PARAM} that needs percent-encoding ({ESCAPED_DEPLOYMENT!r})",
                base,
                op,
                deployment=ESCAPED_DEPLOYMENT,
                tags=(DEPLOYMENT_ESCAPED,),
            )
        )
    unknown = {**base, UNKNOWN_FIELD: "ignored by a conforming gateway"}
    cases.append(positive_case("unknown-field", "a field the schema does not list", unknown, op))
    if PROMPT_FIELD in op.properties:
        empty = {**base, PROMPT_FIELD: ""}
        cases.append(positive_case("empty-prompt", "empty prompt", empty, op))
        for name, prompt in TEXT_PROMPTS.items():
            body = {**base, PROMPT_FIELD: prompt}
            title = f"{name} prompt ({len(prompt)} chars)"
            cases.append(
                positive_case(f"prompt-{name}", title, body, op, tags=(TEXT_PREFIX + name,))
            )
    cases.extend(_stream_exclusive_cases(op, base))
    cases.extend(_parity_cases(op, base))
    return cases


def _stream_exclusive_cases(op: Operation, base: dict[str, Any]) -> list[Case]:
    """One streamed case per field the spec does not support for streaming."""
    if not streaming_allowed(op):
        return []
    cases = []
    for name in stream_exclusive_fields(op):
        body = {**base, name: sample_value(name, op.field_schema(name)), STREAM_FIELD: True}
        title = f"streamed with {name}={body[name]} (may be ignored or rejected)"
        cases.append(positive_case(f"stream-with-{name}", title, body, op))
    return cases


def streaming_allowed(op: Operation) -> bool:
    """Whether the spec (perhaps narrowed to `stream=false`) allows `stream: true`."""
    return STREAM_FIELD in op.properties and True in field_values(
        STREAM_FIELD, op.field_schema(STREAM_FIELD)
    )


def _parity_cases(op: Operation, base: dict[str, Any]) -> list[Case]:
    """Per size family, the same body sent streamed and not streamed."""
    if not streaming_allowed(op):
        return []
    extra: dict[str, Any] = {}
    if COUNT_FIELD in op.properties:
        low, high = numeric_bounds(op.field_schema(COUNT_FIELD))
        first = int(low) if low is not None else 1
        extra[COUNT_FIELD] = first + 1 if high is None or first + 1 <= high else first
    cases = []
    for family, (name, value) in size_families(op).items():
        for streamed in (True, False):
            body = {**base, name: value, **extra, STREAM_FIELD: streamed}
            mode = "streamed" if streamed else "not streamed"
            cases.append(
                positive_case(
                    f"parity-{family}-{'stream' if streamed else 'json'}",
                    f"parity {family}: {name}={value}, {mode}",
                    body,
                    op,
                    tags=(PARITY_PREFIX + family,),
                )
            )
    return cases
