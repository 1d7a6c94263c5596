"""Two-sided cases: requests whose trip through the gateway to the upstream the suite watches.

Each case carries a unique token in its prompt (the upstream's records are matched by it) and,
where it asks for an upstream failure, a fault marker (`[[upstream:KIND]]`, documented in
docs/upstream.md). The cases vary what a gateway can mix up: every optional field and n >= 2,
a deployment other than the model, an api-version other than the default, fallbacks (JSON and
streamed, and after a refusal), upstream failures on JSON and streamed requests, prompts that
must arrive code point for code point, unknown fields, one body for two deployments (a cache),
and successes with an odd `usage`. The table in docs/upstream.md names what judges each.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from conformance.model import (
    FALLBACKS_FIELD,
    MODEL_FIELD,
    PROMPT_FIELD,
    PROVIDER_USAGE,
    SHARED_BODY,
    STREAM_FIELD,
    UPSTREAM,
    UPSTREAM_FAULT_PREFIX,
    UPSTREAM_TOKEN_PREFIX,
    Case,
    stream_exclusive_fields,
)
from conformance.plan.validity import BodyJudge
from conformance.spec import Operation

ROUTED_DEPLOYMENT: Final = "conformance-deployment"
FALLBACK_MODELS: Final = ("conformance-fallback-1", "conformance-fallback-2")
OTHER_API_VERSION: Final = "2024-10-21"
STREAM_PACE_S: Final = 0.25
UNICODE_PROMPT: Final = (
    "Café crème, naïve façade, Zürich, 東京の夜, Ελλάδα, 🦊🌊🏔️👩‍🚀, "
    "\"double\" 'single' «guillemets», a back\\slash, a literal \\u00e9, "
    "tab\there, escape\x1b, delete\x7f, carriage\rreturn"
)
"""Non-ASCII text and emoji, quotes and backslashes, control characters: each must reach the
upstream as sent (a `\\u00e9` that arrives as six characters is double escaping)."""
LONG_PROMPT_CHARS: Final = 4000
TOKEN_FIRST_AFTER: Final = 1000
"""Prompts longer than this carry their token first, so a truncation leaves it readable."""
TOKEN_ROOM: Final = 64
UNKNOWN_FIELDS: Final = {
    "conformance_trace": {"id": "trace-1", "hops": [1, "two", None, 2.5]},
    "conformance_flag": True,
}
"""Fields no image document names: valid input, forwarded as sent (SHOULD)."""
ODD_USAGE: Final = ("usage-missing", "usage-null", "usage-odd")
"""Fake-upstream markers for a success whose `usage` is missing, null, or fractional with
unknown keys: still a success for the client (rulings, 2026-12-07)."""
STREAM_FAULTS: Final = (("content-policy", None), ("429", 2.0), ("500", None))
"""Upstream failures known before the first byte: a streamed request keeps their status and
envelope (rulings, Inputs and statuses)."""
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
    for name, (title, text) in _fidelity_prompts(op).items():
        specs.append((name, title, {MODEL_FIELD: model, PROMPT_FIELD: text}, {}, None))
    extra = {k: v for k, v in UNKNOWN_FIELDS.items() if k not in op.properties}
    if extra:
        title = "fields the document does not name"
        specs.append(("unknown-fields", title, {MODEL_FIELD: model, **extra}, {}, None))
    if op.path_parameters:  # without a deployment in the path, a repeat may be cached
        cached = {MODEL_FIELD: model, "n": _count(op, 1)}
        first = "a body sent first to the run's deployment"
        specs.append(("cache-first", first, cached, {}, None))
        title = "the same body again, for another deployment: not answered from a cache"
        specs.append(("cache-other", title, cached, {"deployment": ROUTED_DEPLOYMENT}, None))
    for kind in ODD_USAGE:
        specs.append((kind, f"the upstream succeeds with {kind}", {MODEL_FIELD: model}, {}, kind))
    if _can_stream(op):
        for kind, value in STREAM_FAULTS:
            specs.append(
                (
                    f"stream-fault-{kind}",
                    f"a streamed request, the upstream answers {kind} before any event",
                    {MODEL_FIELD: model, STREAM_FIELD: True},
                    {},
                    kind if value is None else f"{kind}={value:g}",
                )
            )
    if FALLBACKS_FIELD in op.properties:
        failing = {MODEL_FIELD: model, FALLBACKS_FIELD: _fallbacks(op, FALLBACK_MODELS)}
        specs.append(
            ("fallbacks", "primary and first fallback fail upstream", failing, {}, "fallbacks")
        )
        if _can_stream(op):
            streamed = {**failing, STREAM_FIELD: True}
            title = "a streamed request, primary and first fallback fail upstream"
            specs.append(("stream-fallbacks", title, streamed, {}, "fallbacks"))
        title = "fallbacks given, the upstream refuses the prompt (content policy)"
        specs.append(("fallbacks-refused", title, dict(failing), {}, "content-policy"))
        unused = {MODEL_FIELD: model, FALLBACKS_FIELD: _fallbacks(op, FALLBACK_MODELS[:1])}
        specs.append(
            ("fallbacks-unused", "fallbacks given, the primary succeeds", unused, {}, None)
        )
    cases = [
        _case(op, number, name, title, body, params, fault, model, nonce)
        for number, (name, title, body, params, fault) in enumerate(specs)
    ]
    judge = BodyJudge(op)  # a case the document refuses is never sent as valid
    valid = [c for c in cases if c.expect != "success" or judge.problem(c.body) is None]
    return _share_body(valid, "upstream-cache-first", "upstream-cache-other")


def _share_body(cases: list[Case], first_id: str, other_id: str) -> list[Case]:
    """`other_id` sent with `first_id`'s very body (its token too), right after it."""
    first = next((c for c in cases if c.id == first_id), None)
    if first is None:
        return cases
    return [
        replace(c, body=dict(first.body), tags=(*first.tags, SHARED_BODY))
        if c.id == other_id
        else c
        for c in cases
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
    elif fault in ODD_USAGE:
        markers = " " + marker(fault)
        tags.append(PROVIDER_USAGE)  # a success upstream, not a provoked failure
    elif fault is not None:
        kind, _, value = fault.partition("=")
        markers = " " + marker(kind, value=float(value) if value else None)
        tags.append(UPSTREAM_FAULT_PREFIX + kind)
    text = body.get(PROMPT_FIELD, PROMPT)
    if len(text) > TOKEN_FIRST_AFTER:  # a cut prompt still carries its token
        sent = {**body, PROMPT_FIELD: f"{token}{markers} {text}"}
    else:
        sent = {**body, PROMPT_FIELD: f"{text} {token}{markers}"}
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


def _fidelity_prompts(op: Operation) -> dict[str, tuple[str, str]]:
    """Prompts a gateway must pass on code point for code point (rulings, Gateways and their
    upstream, 2026-12-07), within the document's bounds for `prompt`."""
    schema = op.field_schema(PROMPT_FIELD)
    most = schema.get("maxLength")
    room = int(most) - TOKEN_ROOM if isinstance(most, int) else LONG_PROMPT_CHARS
    found = {}
    if room >= len(UNICODE_PROMPT):
        found["prompt-unicode"] = (
            "non-ASCII, emoji, quotes, backslashes, controls",
            UNICODE_PROMPT,
        )
    length = min(LONG_PROMPT_CHARS, room)
    if length > TOKEN_FIRST_AFTER:
        entries = " ".join(f"Panel {i}: the keeper's log, entry {i}." for i in range(length))
        found["prompt-long"] = (f"a prompt of {length} characters", entries[:length].rstrip())
    return found


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


def _fallbacks(op: Operation, names: tuple[str, ...]) -> list[Any]:
    """`names` as the document's `fallbacks` items: the names themselves, or objects that name
    the model when its items are objects with a `model` (their other required fields take
    the first value the schema offers)."""
    items = op.properties[FALLBACKS_FIELD].get("items")
    if not isinstance(items, dict) or not isinstance(items.get("properties"), dict):
        return list(names)
    fields: dict[str, Any] = items["properties"]
    if MODEL_FIELD not in fields:
        return list(names)
    required = [k for k in items.get("required", []) if k != MODEL_FIELD and k in fields]
    extra = {k: _offered(fields[k]) for k in required}
    return [{**extra, MODEL_FIELD: name} for name in names]


def _offered(schema: Any) -> Any:
    """A value the schema offers: its const, first enum member, default or example."""
    if not isinstance(schema, dict):
        return "conformance"
    if "const" in schema:
        return schema["const"]
    for key in ("enum", "examples"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    return schema.get("default", schema.get("example", "conformance"))
