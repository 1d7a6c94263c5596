"""Shrinking: reduce a failing valid body to a small one that still fails."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final

from conformance.model import PARITY_PREFIX, PROMPT_FIELD, Case, body_tags
from conformance.plan.domains import numeric_bounds
from conformance.spec import Operation
from conformance.spec.schema import types as schema_types

MAX_SHRINK_ATTEMPTS: Final = 20


class _Shrinker:
    """Tries smaller bodies in a fixed order; keeps each one that still fails."""

    def __init__(self, case: Case, still_fails: Callable[[Case], bool], op: Operation, limit: int):
        self.original = case
        self.best = case
        self.still_fails = still_fails
        self.op = op
        self.left = limit

    @property
    def body(self) -> dict[str, Any]:
        return dict(self.best.body)

    def attempt(self, body: dict[str, Any]) -> bool:
        if self.left <= 0 or body == self.best.body:
            return False
        self.left -= 1
        trial = _with_body(self.original, body, self.op)
        if self.still_fails(trial):
            self.best = trial
            return True
        return False

    def drop_optional_fields(self) -> None:
        required = set(self.op.required_fields)
        for name in [n for n in self.body if n not in required]:
            self.attempt({k: v for k, v in self.body.items() if k != name})

    def shorten(self, name: str) -> None:
        text = self.body.get(name)
        if not isinstance(text, str) or len(text) <= 1:
            return
        if self.attempt({**self.body, name: text[:1]}):
            return
        fits, fails = 1, len(text)
        while fails - fits > 1 and self.left > 0:
            middle = (fits + fails) // 2
            if self.attempt({**self.body, name: text[:middle]}):
                fails = middle
            else:
                fits = middle

    def lower(self, name: str) -> None:
        value = self.body.get(name)
        schema = self.op.field_schema(name)
        if isinstance(value, bool) or "integer" not in schema_types(schema):
            return
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return
        low = numeric_bounds(schema)[0]
        floor = int(low) if low is not None else 0
        if value <= floor or self.attempt({**self.body, name: floor}):
            return
        fits, fails = floor, value
        while fails - fits > 1 and self.left > 0:
            middle = (fits + fails) // 2
            if self.attempt({**self.body, name: middle}):
                fails = middle
            else:
                fits = middle


def shrink(
    case: Case,
    still_fails: Callable[[Case], bool],
    op: Operation,
    *,
    max_attempts: int = MAX_SHRINK_ATTEMPTS,
) -> Case:
    """A smaller case that still fails: optional fields dropped, prompt shortened, integers
    (`4` or `4.0`) lowered toward their minimum. Calls `still_fails` at most `max_attempts`
    times; returns `case` itself when nothing smaller fails (or the body is not a JSON object).
    """
    if case.raw_body is not None or not isinstance(case.body, dict):
        return case
    shrinker = _Shrinker(case, still_fails, op, max_attempts)
    shrinker.drop_optional_fields()
    shrinker.shorten(PROMPT_FIELD)
    for name in list(shrinker.body):
        shrinker.lower(name)
    return shrinker.best


def _with_body(case: Case, body: dict[str, Any], op: Operation) -> Case:
    derived = set(body_tags(case.body, op))
    kept = [t for t in case.tags if t not in derived and not t.startswith(PARITY_PREFIX)]
    return dataclasses.replace(
        case,
        id=f"{case.id}-shrunk",
        title=f"{case.title} (shrunk)",
        body=body,
        tags=tuple(dict.fromkeys((*kept, *body_tags(body, op)))),
    )
