"""Two-sided cases: requests whose trip through the gateway to the upstream the suite watches.

Each case carries a unique token in its prompt (the upstream's records are matched by it) and,
where it asks for an upstream failure, a fault marker (`[[upstream:KIND]]`, documented in
docs/upstream.md). The cases vary what a gateway can mix up: every optional field and n >= 2,
a deployment other than the model, an api-version other than the default, fallbacks, streams.
"""

from __future__ import annotations

from typing import Any, Final

from conformance.model import (
    FALLBACKS_FIELD,
    MODEL_FIELD,
    PROMPT_FIELD,
    STREAM_FIELD,
    UPSTREAM,
    UPSTREAM_FAULT_PREFIX,
    UPSTREAM_TOKEN_PREFIX,
    Case,
    stream_exclusive_fields,
)
from conformance.spec import Operation

ROUTED_DEPLOYMENT: Final = "conformance-deployment"
FALLBACK_MODELS: Final = ("conformance-fallback-1", "conformance-fallback-2")
OTHER_API_VERSION: Final = "2024-10-21"
STREAM_PACE_S: Final = 0.25
PROMPT: Final = "A lighthouse at dusk,  gulls\ncircling the lamp"
"""Two spaces and a newline: a gateway that tidies prompts shows it."""


RECOVERED_FAULTS: Final = frozenset({"fallbacks"})
"""Provoked upstream failures a conforming gateway recovers from (a fallback answers), so
their answers carry images; the other provoked failures' answers carry none."""


def marker(kind: str, model: str | None = None, value: float | None = None) -> str:
    """A fault marker as the fake upstream reads it."""
    number = "" if value is None else f"={value:g}"
    return f"[[upstream:{kind}{number}{'' if model is None else '@' + model}]]"


def upstream_cases(op: Operation, *, model: str, nonce: str) -> list[Case]:
    """The two-sided cases of a run; `nonce` keeps the tokens unique across runs that share
    one upstream."""
    specs: list[tuple[str, str, dict[str, Any], dict[str, Any], str | None]] = []
    every = _every_field(op, model)
    specs.append(
        (
            "fields",
            "every optional field, n >= 2, another api-version",
            every,
            {"api_version": OTHER_API_VERSION},
            None,
        )
    )
    specs.append(
        (
            "deployment",
            "a deployment name other than the model",
            {MODEL_FIELD: model},
            {"deployment": ROUTED_DEPLOYMENT},
            None,
        )
    )
    if _can_stream(op):
        streamed = {MODEL_FIELD: model, STREAM_FIELD: True, "n": _count(op, 2)}
        specs.append(("stream", "a paced upstream stream", streamed, {}, "pace"))
    for kind, value in (("content-policy", None), ("429", 2.0), ("500", None), ("non-json", None)):
        specs.append(
            (
                f"fault-{kind}",
                f"the upstream answers {kind}",
                {MODEL_FIELD: model},
                {},
                kind if value is None else f"{kind}={value:g}",
            )
        )
    if FALLBACKS_FIELD in op.properties:
        failing = {MODEL_FIELD: model, FALLBACKS_FIELD: list(FALLBACK_MODELS)}
        specs.append(
            ("fallbacks", "primary and first fallback fail upstream", failing, {}, "fallbacks")
        )
        unused = {MODEL_FIELD: model, FALLBACKS_FIELD: [FALLBACK_MODELS[0]]}
        specs.append(
            ("fallbacks-unused", "fallbacks given, the primary succeeds", unused, {}, None)
        )
    return [
        _case(op, number, name, title, body, params, fault, model, nonce)
        for number, (name, title, body, params, fault) in enumerate(specs)
    ]


def _case(
    op: Operation,
    number: int,
    name: str,
    title: str,
    body: dict[str, Any],
    params: dict[str, Any],
    fault: str | None,
    model: str,
    nonce: str,
) -> Case:
    token = f"cf{nonce}{number:02d}"
    markers = ""
    tags = [UPSTREAM, UPSTREAM_TOKEN_PREFIX + token]
    if fault == "pace":
        markers = " " + marker("pace", value=STREAM_PACE_S)
    elif fault == "fallbacks":
        markers = " " + marker("500", model) + " " + marker("500", FALLBACK_MODELS[0])
        tags.append(UPSTREAM_FAULT_PREFIX + fault)
    elif fault is not None:
        kind, _, value = fault.partition("=")
        markers = " " + marker(kind, value=float(value) if value else None)
        tags.append(UPSTREAM_FAULT_PREFIX + kind)
    sent = {**body, PROMPT_FIELD: f"{PROMPT} {token}{markers}"}
    ordered: dict[str, Any] = {k: sent[k] for k in (MODEL_FIELD, PROMPT_FIELD) if k in sent}
    ordered.update({k: v for k, v in sent.items() if k not in ordered})
    return Case(
        id=f"upstream-{name}",
        kind="positive",
        title=f"two-sided: {title}",
        expect="success",
        body=ordered,
        tags=tuple(tags),
        **params,
    )


def _every_field(op: Operation, model: str) -> dict[str, Any]:
    """Every optional field the spec names with a value other than its default (n >= 2),
    without the stream (judged apart) and fallbacks (gateway-only)."""
    skipped = {PROMPT_FIELD, STREAM_FIELD, FALLBACKS_FIELD, *stream_exclusive_fields(op)}
    body: dict[str, Any] = {MODEL_FIELD: model}
    for name, schema in op.properties.items():
        if name in skipped or name in body:
            continue
        value = _other_value(name, schema, op)
        if value is not None:
            body[name] = value
    for name in stream_exclusive_fields(op):  # not streamed here, so they belong too
        value = _other_value(name, op.field_schema(name), op)
        if value is not None:
            body[name] = value
    return body


def _other_value(name: str, schema: dict[str, Any], op: Operation) -> Any:
    enum = schema.get("enum")
    if enum:
        others = [v for v in enum if v != schema.get("default")]
        preferred = [v for v in others if v != "url"]  # base64 keeps the case self-contained
        return (preferred or others or enum)[0]
    kind = schema.get("type")
    if kind == "integer":
        return _count(op, 2) if name == "n" else schema.get("minimum", 1)
    if kind == "string":
        return f"conformance-{name}"
    return None


def _count(op: Operation, wanted: int) -> int:
    schema = op.field_schema("n")
    return max(int(schema.get("minimum", 1)), min(wanted, int(schema.get("maximum", wanted))))


def _can_stream(op: Operation) -> bool:
    schema = op.field_schema(STREAM_FIELD)
    return bool(schema) and ("enum" not in schema or True in schema["enum"])
