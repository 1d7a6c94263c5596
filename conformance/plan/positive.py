"""Valid cases chosen for coverage: pairwise rows, numeric boundaries and named situations."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
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
    compatible,
    field_values,
    grid_bounds,
    numeric_bounds,
    sample_value,
    size_families,
)
from conformance.plan.pairwise import Cost, covering_array, covering_values, no_cost
from conformance.plan.prompts import BASE_PROMPT, TEXT_PROMPTS
from conformance.spec import Operation
from conformance.spec.schema import types as schema_types

API_VERSION_PARAM: Final = "api-version"
DEPLOYMENT_PARAM: Final = "deployment-id"
ESCAPED_DEPLOYMENT: Final = "dall e/3%"
UNKNOWN_FIELD: Final = "x_conformance_unknown"
FORMAT_FIELD: Final = "response_format"
EXTENSION_CASES: Final[tuple[tuple[str, str, dict[str, Any], str | None], ...]] = (
    (
        "jpeg",
        "JPEG at compression 80",
        {"output_format": "jpeg", "output_compression": 80},
        "b64_json",
    ),
    ("webp", "WebP images as URLs", {"output_format": "webp"}, "url"),
    (
        "transparent",
        "transparent PNG",
        {"output_format": "png", "background": "transparent"},
        "b64_json",
    ),
)
"""OpenAI's image request fields the spec does not name (valid input under the rulings), sent
with a response_format the run may use: case label, title, fields, response_format."""
_ALWAYS_SENT: Final = (MODEL_FIELD, PROMPT_FIELD)
STREAM_EXTENSIONS: Final = {"partial_images": 2, "output_format": "jpeg", "moderation": "low"}
STREAM_TRANSPARENT: Final = {"output_format": "png", "background": "transparent"}
"""Streamed too, apart from JPEG (which keeps no alpha): without it no plan ever asked a stream
for a transparent background, and SSE-BACKGROUND-ALPHA judged nothing."""


def base_body(op: Operation, model: str) -> dict[str, Any]:
    """The smallest valid body: required fields (the run's model, a plain prompt), and model
    and prompt wherever the schema declares them, required or not (OpenAI's model is optional:
    the run names the one it pays for)."""
    body: dict[str, Any] = {}
    for name in dict.fromkeys([*op.required_fields, *_ALWAYS_SENT]):
        if name not in op.properties and name not in op.required_fields:
            continue
        if name == MODEL_FIELD:
            body[name] = model
        elif name == PROMPT_FIELD:
            body[name] = BASE_PROMPT
        else:
            body[name] = sample_value(name, op.field_schema(name))
    return body


def cheap_body(op: Operation, model: str, cheapest: dict[str, Any] | None = None) -> dict[str, Any]:
    """`base_body` plus the cheapest size and quality (`cheapest`), for cases that vary neither:
    a paid provider charges by them."""
    return {**base_body(op, model), **(cheapest or {})}


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


def pairwise_cases(op: Operation, model: str, cost: Cost = no_cost) -> list[Case]:
    """One case per row of the all-pairs covering array of the optional fields (cheap values
    preferred where coverage allows)."""
    return _row_cases(op, model, covering_array(columns(op), compatible(op), cost))


def value_cases(
    op: Operation, model: str, cost: Cost = no_cost, prompts: dict[str, str] | None = None
) -> list[Case]:
    """One case per row of a covering of single values: every enum and boolean value (and
    absence) once; a bounded number field only at its cheapest point. `prompts` (name ->
    text) are carried by the JSON rows, one each, tagged as the named prompt cases are."""
    domains = columns(op)
    for name, values in domains.items():
        schema = op.field_schema(name)
        if {"integer", "number"} & set(schema_types(schema)) and not schema.get("enum"):
            listed = [v for v in values if v is not ABSENT and v is not None]
            cheapest = min(listed, key=partial(cost, name))
            domains[name] = [cheapest, *([None] if None in values else []), ABSENT]
    rows = covering_values(domains, compatible(op), cost)
    return _row_cases(op, model, rows, prompts or {})


def _row_cases(
    op: Operation, model: str, rows: list[dict[str, Any]], prompts: dict[str, str] | None = None
) -> list[Case]:
    """A case per row; the `prompts` go to the rows that do not stream (a stream is judged by
    checks of its own, which a prompt's failure would cloud), in order."""
    waiting = list((prompts or {}).items())
    cases = []
    for number, row in enumerate(rows, start=1):
        chosen = {name: value for name, value in row.items() if value is not ABSENT}
        shown = ", ".join(f"{name}={value}" for name, value in chosen.items()) or "defaults"
        body = {**base_body(op, model), **chosen}
        title = f"pairwise: {shown}"
        tags: tuple[str, ...] = ()
        if waiting and PROMPT_FIELD in body and chosen.get(STREAM_FIELD) is not True:
            name, prompt = waiting.pop(0)
            body[PROMPT_FIELD] = prompt
            title, tags = f"{title}; {name} prompt ({len(prompt)} chars)", (TEXT_PREFIX + name,)
        cases.append(positive_case(f"pair-{number:03d}", title, body, op, tags=tags))
    return cases


def rows_prompts(cases: list[Case]) -> set[str]:
    """The named prompts that rows already carry (by name)."""
    return {t.removeprefix(TEXT_PREFIX) for c in cases for t in c.tags if t.startswith(TEXT_PREFIX)}


def boundary_cases(
    op: Operation,
    model: str,
    cheapest: dict[str, Any] | None = None,
    count_maximum: bool = True,
    sent: Sequence[Case] = (),
) -> list[Case]:
    """Each bounded numeric field alone at its minimum and at its maximum (the count field's
    maximum only with `count_maximum`: it asks for that many images), but those values that
    a case of `sent` already sends."""
    cases = []
    for name, schema in op.properties.items():
        if not {"integer", "number"} & set(schema_types(schema)) or schema.get("enum"):
            continue
        low, high = grid_bounds(schema)
        for label, value in (("min", low), ("max", high)):
            if value is None or (label == "max" and name == COUNT_FIELD and not count_maximum):
                continue
            if any(name in case.body and case.body[name] == value for case in sent):
                continue
            body = {**cheap_body(op, model, cheapest), name: value}
            title = f"{name} at its {label}imum ({value})"
            cases.append(
                positive_case(f"boundary-{name}-{label}", title, body, op, kind="boundary")
            )
    return cases


def special_cases(
    op: Operation,
    model: str,
    cheapest: dict[str, Any] | None = None,
    parity_families: int | None = None,
    cost: Cost = no_cost,
    prompts_sent: frozenset[str] | set[str] = frozenset(),
    transparent_stream: bool = True,
) -> list[Case]:
    """Named situations: parameters, unknown fields, empty and unusual prompts (but those in
    `prompts_sent`, carried by other cases), streaming (parity for the first
    `parity_families` size families, cheapest first; None: all), extension fields (a stream
    asked for a transparent background too, with `transparent_stream`)."""
    base = cheap_body(op, model, cheapest)
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
            if name in prompts_sent:
                continue
            body = {**base, PROMPT_FIELD: prompt}
            title = f"{name} prompt ({len(prompt)} chars)"
            cases.append(
                positive_case(f"prompt-{name}", title, body, op, tags=(TEXT_PREFIX + name,))
            )
    cases.extend(_stream_exclusive_cases(op, base))
    cases.extend(_parity_cases(op, base, parity_families, cost))
    cases.extend(extension_cases(op, base, transparent_stream))
    return cases


def extension_cases(
    op: Operation, base: dict[str, Any], transparent_stream: bool = True
) -> list[Case]:
    """A few bodies with OpenAI's extension fields, one or two streamed: whatever comes back is
    judged by the image checks, and whether the fields took effect at SHOULD."""
    formats = op.enum(FORMAT_FIELD) if FORMAT_FIELD in op.properties else []
    cases = []
    for label, title, fields, response_format in EXTENSION_CASES:
        body = {**base, **fields}
        if response_format in formats:
            body[FORMAT_FIELD] = response_format
        cases.append(positive_case(f"extension-{label}", f"extension fields: {title}", body, op))
    if streaming_allowed(op):
        streamed: list[tuple[str, dict[str, Any]]] = [("stream", STREAM_EXTENSIONS)]
        if transparent_stream:
            streamed.append(("stream-transparent", STREAM_TRANSPARENT))
        for label, fields in streamed:
            body = {**base, **fields, STREAM_FIELD: True}
            title = "extension fields, streamed: " + ", ".join(
                f"{k}={v}" for k, v in fields.items()
            )
            cases.append(positive_case(f"extension-{label}", title, body, op))
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


def _parity_cases(
    op: Operation, base: dict[str, Any], families: int | None, cost: Cost
) -> list[Case]:
    """Per size family, the same body sent streamed and not streamed."""
    if not streaming_allowed(op):
        return []
    extra: dict[str, Any] = {}
    if COUNT_FIELD in op.properties:
        low, high = numeric_bounds(op.field_schema(COUNT_FIELD))
        first = int(low) if low is not None else 1
        extra[COUNT_FIELD] = first + 1 if high is None or first + 1 <= high else first
    cases = []
    found = list(size_families(op).items())
    if families is not None:
        found = sorted(found, key=lambda item: cost(*item[1]))[:families]
    for family, (name, value) in found:
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
