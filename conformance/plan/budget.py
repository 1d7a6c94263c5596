"""The request cap: keep the cases that matter most for coverage, drop the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from conformance.model import Case

VALUE_ROWS: Final = 0
"""Pairwise rows that first send some field value (all enum values, booleans, bounds)."""
RULE_FIRSTS: Final = 1
"""The first negative of each rule."""
PAIR_ROWS: Final = 2
"""The other pairwise rows (the remaining pairs)."""
NAMED: Final = 3
"""Boundaries, parameters, prompts, streaming parity."""
RULE_OTHERS: Final = 4
"""Further negatives of a rule already covered."""
RANDOM: Final = 5
"""Random bodies."""

TIER_NAMES: Final = {
    VALUE_ROWS: "pairwise (first values)",
    RULE_FIRSTS: "negative (first of its rule)",
    PAIR_ROWS: "pairwise (remaining pairs)",
    NAMED: "named case",
    RULE_OTHERS: "negative (further variant)",
    RANDOM: "random",
}


def apply_budget(
    cases: list[Case],
    tiers: dict[str, int],
    max_requests: int | None,
    first: Sequence[str] = (),
) -> tuple[list[Case], list[Case]]:
    """Split `cases` into (kept, cut) so that at most `max_requests` are kept.

    The ids in `first` are kept before anything else (in their order), then lower tiers;
    within a tier, plan order decides. Kept cases keep plan order.
    """
    if max_requests is None or len(cases) <= max_requests:
        return list(cases), []
    rank = {case_id: n for n, case_id in enumerate(first)}

    def order(i: int) -> tuple[int, int, int]:
        case_id = cases[i].id
        if case_id in rank:
            return (-1, rank[case_id], i)
        return (tiers.get(case_id, RANDOM), 0, i)

    ranked = sorted(range(len(cases)), key=order)
    keep = set(ranked[: max(0, max_requests)])
    kept = [c for i, c in enumerate(cases) if i in keep]
    cut = [c for i, c in enumerate(cases) if i not in keep]
    return kept, cut


def within_cap(
    cases: Sequence[Case], requests_of: Callable[[Case], int], max_requests: int | None
) -> list[Case]:
    """The cases of `cases` (in sending order) a run with `max_requests` gets on the wire, each
    costing `requests_of(case)` requests (itself and the image URLs its answer makes the suite
    fetch): what a capped run's estimate prices, not the whole plan."""
    if max_requests is None:
        return list(cases)
    sent: list[Case] = []
    spent = 0
    for case in cases:
        if spent >= max_requests:
            break
        sent.append(case)
        spent += requests_of(case)
    return sent
