"""Random valid request bodies: hypothesis strategies composed from the request schema."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from conformance.plan.domains import (
    MODEL_FIELD,
    PROMPT_FIELD,
    STREAM_FIELD,
    numeric_bounds,
    schema_types,
    stream_exclusive_fields,
)
from conformance.plan.prompts import prompt_strategy
from conformance.spec import Operation

_TEXT = st.characters(exclude_categories=("Cs", "Cc"))
_MAX_TEXT = 40
_MAX_ITEMS = 3
_OVERSAMPLE = 3


def value_strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Valid values for one field schema (enum, boolean, number, string, array, object)."""
    if schema.get("enum"):
        return st.sampled_from(list(schema["enum"]))
    kind = (schema_types(schema) or ["string"])[0]
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = numeric_bounds(schema)
        return st.integers(
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
        )
    if kind == "number":
        low, high = numeric_bounds(schema)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "array":
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + _MAX_ITEMS)), low + _MAX_ITEMS)
        return st.lists(value_strategy(schema.get("items", {})), min_size=low, max_size=high)
    if kind == "object":
        return st.just({})
    if kind == "null":
        return st.none()
    low = int(schema.get("minLength", 0))
    high = max(low, min(int(schema.get("maxLength", low + _MAX_TEXT)), low + _MAX_TEXT))
    return st.text(_TEXT, min_size=low, max_size=high)


def body_strategy(op: Operation, model: str) -> st.SearchStrategy[dict[str, Any]]:
    """Whole valid bodies: required fields always, optional ones sometimes.

    The model is the run's model; prompts come from `prompt_strategy`. A streamed body leaves
    out the fields the spec does not support for streaming.
    """
    pieces = {name: value_strategy(schema) for name, schema in op.properties.items()}
    if MODEL_FIELD in pieces:
        pieces[MODEL_FIELD] = st.just(model)
    if PROMPT_FIELD in pieces:
        pieces[PROMPT_FIELD] = prompt_strategy()
    required = set(op.required_fields)
    exclusive = stream_exclusive_fields(op)
    bodies = st.fixed_dictionaries(
        {name: s for name, s in pieces.items() if name in required},
        optional={name: s for name, s in pieces.items() if name not in required},
    )

    order = list(op.properties)

    def streamable(body: dict[str, Any]) -> dict[str, Any]:
        streamed = body.get(STREAM_FIELD) is True
        return {
            name: body[name]
            for name in order
            if name in body and not (streamed and name in exclusive)
        }

    return bodies.map(streamable)


def body_key(body: Any) -> str:
    """Canonical JSON text of a body, for telling bodies apart."""
    return json.dumps(body, sort_keys=True)


def draw_bodies(
    op: Operation, model: str, seed: int, count: int, exclude: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Up to `count` distinct bodies drawn with hypothesis from `seed` (same seed, same bodies).

    Bodies whose `body_key` is in `exclude` are skipped.
    """
    drawn: dict[str, dict[str, Any]] = {}

    @hypothesis_seed(seed)
    @settings(
        max_examples=max(1, count * _OVERSAMPLE),
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(body_strategy(op, model))
    def collect(body: dict[str, Any]) -> None:
        key = body_key(body)
        if len(drawn) < count and key not in exclude:
            drawn.setdefault(key, body)

    if count > 0:
        collect()
    return list(drawn.values())
