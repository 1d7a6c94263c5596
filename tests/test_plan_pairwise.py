"""The covering array contains every allowed pair and never a forbidden row."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.plan.pairwise import Row, covering_array, pairs_in, required_pairs

column_sets = st.dictionaries(
    st.sampled_from("abcdef"), st.integers(2, 5).map(lambda k: list(range(k))), min_size=2
)


def no_a0_with_b1(row: Row) -> bool:
    return not (row.get("a") == 0 and row.get("b") == 1)


@settings(max_examples=40, deadline=None, database=None)
@given(column_sets)
def test_all_allowed_pairs_are_covered(columns: dict[str, list[Any]]) -> None:
    rows = covering_array(columns, no_a0_with_b1)
    assert all(no_a0_with_b1(row) for row in rows)
    seen = set().union(*(pairs_in(row, columns) for row in rows)) if rows else set()
    assert set(required_pairs(columns, no_a0_with_b1)) <= seen
    sizes = sorted((len(v) for v in columns.values()), reverse=True)
    assert len(rows) >= sizes[0] * sizes[1] - (1 if {"a", "b"} <= set(columns) else 0)


def test_array_is_much_smaller_than_the_product() -> None:
    columns = {name: list(range(3)) for name in "abcdefgh"}
    rows = covering_array(columns)
    assert len(rows) <= 20 < 3**8
    assert rows == covering_array(columns)


def test_pairs_no_row_can_hold_are_left_out() -> None:
    columns = {"a": [0], "b": [0, 1], "c": [0, 1]}
    rows = covering_array(columns, no_a0_with_b1)
    assert rows and all(row["b"] == 0 for row in rows)
    assert {row["c"] for row in rows} == {0, 1}


def test_a_plans_rows_are_built_once_per_operation_model_and_price_table(
    monkeypatch: Any,
) -> None:
    """The rows do not depend on the seed: a loop of seeds builds them once, and another
    model or price table builds its own (the same rows, not a stale copy of another's)."""
    import conformance.plan.build as build
    from conformance.plan.prices import load_price_table
    from conformance.spec import load_spec

    built: list[str] = []
    real = build.pairwise_cases

    def counting(op: Any, model: str, cost: Any) -> Any:
        built.append(model)
        return real(op, model, cost)

    monkeypatch.setattr(build, "pairwise_cases", counting)
    monkeypatch.setattr(build, "_ROWS", {})
    op = load_spec().operation
    plans = [build.build_plan(op, seed=seed, max_examples=1) for seed in (1, 2)]
    assert built == ["dall-e-3"]
    assert [c.id for c in plans[0].cases if "random" not in c.tags] == [
        c.id for c in plans[1].cases if "random" not in c.tags
    ]
    build.build_plan(op, seed=1, max_examples=1, model="gpt-image-1")
    table = load_price_table()
    build.build_plan(op, seed=1, max_examples=1, prices=table)
    build.build_plan(op, seed=2, max_examples=1, prices=table)
    assert built == ["dall-e-3", "gpt-image-1", "dall-e-3"]
