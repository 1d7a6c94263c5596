"""Random valid request bodies: schemathesis derives them from the operation's request schema.

Only the generated body is used, fitted to the run: the body's model is the run's model,
top-level fields the schema does not list are dropped (a named case covers those), a prompt
with nothing to draw is replaced by one from `prompt_strategy`, and a streamed body leaves out
the fields the spec does not support for streaming.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

# Hypothesis keeps caches (its unicode tables) in `./.hypothesis` unless told otherwise; a run
# must leave the directory it was started in as it found it, so they go to the user's cache.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gateway-conformance"),
)

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conformance.model import MODEL_FIELD, PROMPT_FIELD, STREAM_FIELD, stream_exclusive_fields
from conformance.plan.hypothesis_compat import only_builtin_constants
from conformance.plan.prompts import prompt_strategy
from conformance.spec import Operation

if TYPE_CHECKING:
    from schemathesis.generation.case import Case as GeneratedCase

_OVERSAMPLE: Final = 3
_CHUNK: Final = 25
"""Bodies drawn in one hypothesis example: one search for a whole default plan's bodies, few
enough that an example stays well within hypothesis's bound on its size."""
_BODY_PATH: Final = "/"
JSON_MEDIA: Final = "application/json"
_DRAWING = threading.Lock()


def body_key(body: Any) -> str:
    """Canonical JSON text of a body, for telling bodies apart."""
    return json.dumps(body, sort_keys=True)


def body_document(op: Operation) -> dict[str, Any]:
    """A one-operation OpenAPI document holding only `op`'s request body (already resolved),
    as the document states it: closing the schema could make it unsatisfiable (an `allOf` of
    open parts), so fields it does not list are dropped from the drawn bodies instead.
    """
    return _document(op.request_schema, op.request_media_type, op.method, op.operation_id)


def _document(schema: Any, media_type: str, method: str, title: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "body"},
        "paths": {
            _BODY_PATH: {
                method: {
                    "requestBody": {
                        "required": True,
                        "content": {media_type: {"schema": schema}},
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

    Bodies whose `body_key` is in `exclude` are skipped. They are drawn `_CHUNK` to a
    hypothesis example (each body an independent draw from the example's random stream), at
    most `count * _OVERSAMPLE` in all.
    """
    strategy = body_strategy(op, model)
    drawn: dict[str, dict[str, Any]] = {}
    with _DRAWING, only_builtin_constants():
        for chunk in range(-(-max(0, count) * _OVERSAMPLE // _CHUNK)):
            if len(drawn) >= count:
                break
            wanted = min(_CHUNK, count - len(drawn))
            several = _distinct(strategy, wanted, exclude | drawn.keys())
            bodies = _draw_one(several, f"{seed}:{chunk}")
            for body in () if bodies is NO_VALUE else bodies:
                drawn.setdefault(body_key(body), body)
    return list(drawn.values())


def _distinct(
    strategy: st.SearchStrategy[dict[str, Any]], count: int, exclude: Collection[str]
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Up to `count` bodies of `strategy` whose keys are neither in `exclude` nor repeated, in
    at most `count * _OVERSAMPLE` draws."""

    @st.composite
    def several(draw: st.DrawFn) -> list[dict[str, Any]]:
        kept: dict[str, dict[str, Any]] = {}
        for _ in range(count * _OVERSAMPLE):
            if len(kept) >= count:
                break
            body = draw(strategy)
            key = body_key(body)
            if key not in exclude:
                kept.setdefault(key, body)
        return list(kept.values())

    return several()


NO_VALUE: Final = object()
"""What `draw_value` returns when the schema admits nothing it could draw."""


def draw_value(schema: dict[str, Any], seed: str = "value") -> Any:
    """One value valid against `schema`, drawn by schemathesis (as the body of a one-operation
    document) from a fixed seed; `NO_VALUE` when it draws none. Best effort: a schema the
    generator cannot handle gives `NO_VALUE`, and every body built from a value is validated
    before it is planned."""
    document = body_key(_document(schema, JSON_MEDIA, "post", "value"))
    try:
        strategy = _generated(document, "POST").map(lambda case: case.body)
        with _DRAWING, only_builtin_constants():
            return _draw_one(strategy, f"{seed}:{document}")
    except Exception:  # noqa: BLE001 - the generator's own failure: no value, never a crash
        return NO_VALUE


def _draw_one(strategy: st.SearchStrategy[Any], seed: str) -> Any:
    """One random example of `strategy`, fixed by `seed`; `NO_VALUE` if none was drawn.

    A hypothesis run starts from the simplest example, which is no random draw: the gate in
    front of `strategy` makes that one `NO_VALUE` (and cheap), so the run's second example,
    which must differ from it, is `strategy`'s, drawn at random. (Later examples would mutate
    what was seen, giving near copies: hence a run of two, the first free.)
    """
    examples: list[Any] = []

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
    @given(st.one_of(st.just(NO_VALUE), strategy))
    def keep(example: Any) -> None:
        examples.append(example)

    keep()
    return next((e for e in reversed(examples) if e is not NO_VALUE), NO_VALUE)
