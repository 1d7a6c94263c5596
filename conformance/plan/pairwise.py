"""All-pairs covering arrays: a small deterministic greedy algorithm with a row constraint.

Columns map a name to its values. A pair is two columns at given value positions, written
`(i, a, j, b)` with column positions `i < j`. Every pair the constraint allows ends up in at
least one row. (allpairspy leaves allowed pairs uncovered once a filter is applied, so the
constraint is handled here.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from itertools import combinations
from typing import Any

Row = dict[str, Any]
RowFilter = Callable[[Row], bool]
IndexPair = tuple[int, int, int, int]
Key = Callable[[Any], str]
Cost = Callable[[str, Any], float]
_SEEDS = 16


def allow_all(row: Row) -> bool:
    return True


def no_cost(name: str, value: Any) -> float:
    return 0.0


def required_pairs(
    columns: dict[str, list[Any]], allowed: RowFilter = allow_all
) -> list[IndexPair]:
    """Every pair of values of two columns that the constraint allows, in column order."""
    names = list(columns)
    pairs: list[IndexPair] = []
    for i, j in combinations(range(len(names)), 2):
        for a, first in enumerate(columns[names[i]]):
            for b, second in enumerate(columns[names[j]]):
                if allowed({names[i]: first, names[j]: second}):
                    pairs.append((i, a, j, b))
    return pairs


def covering_array(
    columns: dict[str, list[Any]], allowed: RowFilter = allow_all, cost: Cost = no_cost
) -> list[Row]:
    """Rows (one value per column) that together contain every allowed pair.

    Greedy: each round grows a row from each of the first few uncovered pairs, filling the
    remaining columns (largest domains first) with the value that covers most new pairs
    (the cheaper by `cost` when two cover as many), and keeps the row that covers most, the
    cheaper of equals. A pair no complete row can hold under the constraint is left out.
    Deterministic for the same columns.
    """
    names = list(columns)
    uncovered = set(required_pairs(columns, allowed))
    fill_order = sorted(range(len(names)), key=lambda c: -len(columns[names[c]]))
    rows: list[Row] = []
    while uncovered:
        best: dict[int, int] = {}
        best_score = (0, 0.0)
        seeds = sorted(uncovered)[:_SEEDS]
        for seed in seeds:
            chosen = _grow(seed, columns, names, fill_order, uncovered, allowed, cost)
            if chosen is None:
                continue
            gain = len(_pairs_of(chosen) & uncovered)
            price = sum(cost(names[c], columns[names[c]][v]) for c, v in chosen.items())
            if gain and (gain, -price) > best_score:
                best, best_score = chosen, (gain, -price)
        if not best:
            uncovered -= set(seeds)  # no complete row can hold these pairs
            continue
        uncovered -= _pairs_of(best)
        rows.append({names[c]: columns[names[c]][v] for c, v in sorted(best.items())})
    return rows


def covering_values(
    columns: dict[str, list[Any]], allowed: RowFilter = allow_all, cost: Cost = no_cost
) -> list[Row]:
    """Rows that together send every value of every column at least once (strength one).

    Each row takes, column by column, a value not yet sent, else the value that adds most
    pairs not yet exercised, then the one sent least often (so the few rows still combine
    as many values as they can), the cheapest by `cost` among equals. A value no row can
    hold under the constraint is left out. Deterministic for the same columns.
    """
    names = list(columns)
    uncovered = {
        (c, v)
        for c, name in enumerate(names)
        for v, value in enumerate(columns[name])
        if allowed({name: value})
    }
    rows: list[Row] = []
    exercised: set[IndexPair] = set()
    times: Counter[tuple[int, int]] = Counter()
    while uncovered:
        row: Row = {}
        chosen: dict[int, int] = {}
        for c, name in enumerate(names):
            values = columns[name]
            ranked = [
                (
                    (c, v) not in uncovered,
                    -sum(1 for p in _pairs_with(c, v, chosen) if p not in exercised),
                    times[c, v],
                    cost(name, values[v]),
                    v,
                )
                for v in range(len(values))
            ]
            for *_, v in sorted(ranked):
                if allowed({**row, name: values[v]}):
                    row[name] = values[v]
                    chosen[c] = v
                    break
            else:
                return rows  # the constraint leaves this column without a value
        if not set(chosen.items()) & uncovered:
            break  # what is left cannot be placed in any row
        uncovered -= set(chosen.items())
        exercised |= _pairs_of(chosen)
        times.update(chosen.items())
        rows.append(row)
    return rows


def pairs_in(row: Row, columns: dict[str, list[Any]], key: Key = repr) -> set[IndexPair]:
    """The column pairs a row exercises (values outside a column's list count for nothing)."""
    positions: dict[int, int] = {}
    for c, name in enumerate(columns):
        if name in row:
            keys = [key(v) for v in columns[name]]
            found = key(row[name])
            if found in keys:
                positions[c] = keys.index(found)
    return _pairs_of(positions)


def describe(pair: IndexPair, columns: dict[str, list[Any]]) -> tuple[str, Any, str, Any]:
    """A pair as (column, value, column, value)."""
    names = list(columns)
    i, a, j, b = pair
    return names[i], columns[names[i]][a], names[j], columns[names[j]][b]


def _grow(
    seed: IndexPair,
    columns: dict[str, list[Any]],
    names: list[str],
    fill_order: Iterable[int],
    uncovered: set[IndexPair],
    allowed: RowFilter,
    cost: Cost = no_cost,
) -> dict[int, int] | None:
    """A full row around `seed` (column -> value position), or None when the constraint
    leaves some column without a value."""
    i, a, j, b = seed
    chosen = {i: a, j: b}
    for c in fill_order:
        if c in chosen:
            continue
        best_value, best_score = -1, (-1, 0.0)
        for v in range(len(columns[names[c]])):
            trial = {**chosen, c: v}
            if not allowed({names[k]: columns[names[k]][x] for k, x in trial.items()}):
                continue
            gain = sum(1 for pair in _pairs_with(c, v, chosen) if pair in uncovered)
            score = (gain, -cost(names[c], columns[names[c]][v]))
            if score > best_score:
                best_value, best_score = v, score
        if best_value < 0:
            return None
        chosen[c] = best_value
    return chosen


def _pairs_with(column: int, value: int, chosen: dict[int, int]) -> Iterable[IndexPair]:
    for other, other_value in chosen.items():
        if other < column:
            yield (other, other_value, column, value)
        else:
            yield (column, value, other, other_value)


def _pairs_of(positions: dict[int, int]) -> set[IndexPair]:
    ordered = sorted(positions.items())
    return {(i, a, j, b) for (i, a), (j, b) in combinations(ordered, 2)}
