"""Shrinking a failing valid body to a minimal one, within a bounded number of attempts."""

from __future__ import annotations

from conformance.model import Case
from conformance.plan.shrink import MAX_SHRINK_ATTEMPTS, shrink
from conformance.spec import Spec


def failing_case() -> Case:
    body = {
        "model": "dall-e-3",
        "prompt": "A lighthouse at dusk 🦊 " * 40,
        "n": 7,
        "size": "1024x1024",
        "quality": "hd",
        "style": "vivid",
        "stream": False,
        "user": "someone",
    }
    return Case(id="random-001", kind="positive", title="random", expect="success", body=body)


def test_shrink_reaches_a_minimal_body(spec: Spec) -> None:
    op = spec.operation
    calls: list[Case] = []

    def still_fails(case: Case) -> bool:
        calls.append(case)
        return case.requested_n(op) >= 2

    small = shrink(failing_case(), still_fails, op)
    assert small.body == {"model": "dall-e-3", "prompt": "A", "n": 2}
    assert 0 < len(calls) <= MAX_SHRINK_ATTEMPTS
    assert still_fails(small)
    assert small.id != "random-001" and small.expect == "success"
    assert op.request_validator().is_valid(small.body)


def test_shrink_keeps_what_the_failure_needs(spec: Spec) -> None:
    op = spec.operation

    def needs_hd_and_long_prompt(case: Case) -> bool:
        return case.body.get("quality") == "hd" and len(case.body["prompt"]) >= 50

    small = shrink(failing_case(), needs_hd_and_long_prompt, op)
    assert set(small.body) == {"model", "prompt", "quality"}
    assert len(small.body["prompt"]) == 50


def test_shrink_is_bounded_and_returns_the_case_when_nothing_smaller_fails(spec: Spec) -> None:
    op = spec.operation
    calls: list[Case] = []

    def never(case: Case) -> bool:
        calls.append(case)
        return False

    original = failing_case()
    assert shrink(original, never, op) is original
    assert len(calls) <= MAX_SHRINK_ATTEMPTS
    calls.clear()
    assert shrink(original, lambda c: calls.append(c) or True, op, max_attempts=3) != original
    assert len(calls) == 3
    raw = Case(id="neg", kind="negative", title="t", expect="reject", raw_body=b"{not json")
    assert shrink(raw, lambda c: True, op) is raw


def test_shrink_lowers_an_integer_valued_float(spec: Spec) -> None:
    op = spec.operation
    case = Case(
        id="random-002",
        kind="positive",
        title="random",
        expect="success",
        body={"model": "dall-e-3", "prompt": "A fox", "n": 7.0},
    )
    small = shrink(case, lambda c: c.requested_n(op) >= 3, op)
    assert small.body["n"] == 3 and not isinstance(small.body["n"], float)
