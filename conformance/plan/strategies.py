"""Random valid request bodies: schemathesis derives them from the operation's request schema.

Only the generated body is used, fitted to the run: the body's model is the run's model,
top-level fields the schema does not list are dropped (a named case covers those), a prompt
with nothing to draw is replaced by one from `prompt_strategy`, and a streamed body leaves out
the fields the spec does not support for streaming.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from conformance.model import MODEL_FIELD, PROMPT_FIELD, STREAM_FIELD, stream_exclusive_fields
from conformance.plan.hypothesis_compat import only_builtin_constants
from conformance.plan.prompts import prompt_strategy
from conformance.spec import Operation

if TYPE_CHECKING:
    from schemathesis.generation.case import Case as GeneratedCase

_OVERSAMPLE: Final = 3
_BODY_PATH: Final = "/"
_DRAWING = threading.Lock()


def body_key(body: Any) -> str:
    """Canonical JSON text of a body, for telling bodies apart."""
    return json.dumps(body, sort_keys=True)


def body_document(op: Operation) -> dict[str, Any]:
    """A one-operation OpenAPI document holding only `op`'s request body (already resolved).

    The body schema is closed (`additionalProperties: false`): fields the schema does not list
    would be dropped from random bodies anyway, so schemathesis spends no draws on them.
    """
    closed = {**op.request_schema, "additionalProperties": False}
    return {
        "openapi": "3.1.0",
        "info": {"title": op.operation_id, "version": "body"},
        "paths": {
            _BODY_PATH: {
                op.method: {
                    "requestBody": {
                        "required": True,
                        "content": {op.request_media_type: {"schema": closed}},
                    },
                    "responses": {"default": {"description": "any"}},
                }
            }
        },
    }


def generated_bodies(op: Operation) -> st.SearchStrategy[GeneratedCase]:  # type: ignore[type-arg]
    """schemathesis' positive cases for `op`'s request body (built once per request schema)."""
    return _generated(body_key(body_document(op)), op.method.upper())


@lru_cache(maxsize=8)
def _generated(document: str, method: str) -> st.SearchStrategy[GeneratedCase]:  # type: ignore[type-arg]
    import schemathesis

    schema = schemathesis.openapi.from_dict(json.loads(document))
    operation = schema[_BODY_PATH][method]
    return operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)


def has_subject(prompt: Any) -> bool:
    """Whether a prompt names something to draw (holds a letter or a digit)."""
    return isinstance(prompt, str) and any(char.isalnum() for char in prompt)


def body_strategy(op: Operation, model: str) -> st.SearchStrategy[dict[str, Any]]:
    """Whole valid bodies from schemathesis, fitted to the run (see the module docstring).

    Fields keep the spec's order; every random choice is a hypothesis draw, so a seed fixes it.
    """
    generated = generated_bodies(op)
    exclusive = set(stream_exclusive_fields(op))

    @st.composite
    def bodies(draw: st.DrawFn) -> dict[str, Any]:
        drawn = draw(generated).body
        source = drawn if isinstance(drawn, dict) else {}
        body = {name: source[name] for name in op.properties if name in source}
        if MODEL_FIELD in body:
            body[MODEL_FIELD] = model
        if PROMPT_FIELD in body and not has_subject(body[PROMPT_FIELD]):
            body[PROMPT_FIELD] = draw(prompt_strategy())
        if body.get(STREAM_FIELD) is True:
            body = {name: value for name, value in body.items() if name not in exclusive}
        return body

    return bodies()


def draw_bodies(
    op: Operation, model: str, seed: int, count: int, exclude: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Up to `count` distinct bodies drawn with hypothesis from `seed` (same seed, same bodies).

    Each body is an independent draw; bodies whose `body_key` is in `exclude` are skipped.
    """
    strategy = body_strategy(op, model)
    drawn: dict[str, dict[str, Any]] = {}
    with _DRAWING, only_builtin_constants():
        for index in range(max(0, count) * _OVERSAMPLE):
            if len(drawn) >= count:
                break
            body = _draw_one(strategy, f"{seed}:{index}")
            key = body_key(body)
            if key not in exclude:
                drawn.setdefault(key, body)
    return list(drawn.values())


def _draw_one(strategy: st.SearchStrategy[dict[str, Any]], seed: str) -> dict[str, Any]:
    """One random example of `strategy`, fixed by `seed`.

    A hypothesis run starts from the simplest example and then mutates what it has seen, which
    yields near copies; the second example of a fresh run is an independent draw.
    """
    examples: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=2,
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def keep(example: dict[str, Any]) -> None:
        examples.append(example)

    keep()
    return examples[-1]
