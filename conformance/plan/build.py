"""The plan of a run: every case, in order, with its coverage and what the cap cut."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.model import PROMPT_FIELD, RANDOM, Case
from conformance.plan import budget
from conformance.plan.accept import accept_cases
from conformance.plan.branches import branch_cases
from conformance.plan.cheap import ImageCost
from conformance.plan.coverage import plan_coverage, reached
from conformance.plan.domains import columns, value_key
from conformance.plan.negative import negative_cases
from conformance.plan.positive import (
    base_body,
    boundary_cases,
    cheap_body,
    pairwise_cases,
    positive_case,
    rows_prompts,
    special_cases,
    value_cases,
)
from conformance.plan.presets import DEFAULT_PRESET, STANDARD, Preset, preset
from conformance.plan.prices import PriceTable, estimate, load_price_table
from conformance.plan.prompts import TEXT_PROMPTS
from conformance.plan.strategies import body_key, draw_bodies
from conformance.plan.validity import BodyJudge, require_understood
from conformance.spec import Operation

DEFAULT_MODEL: Final = "dall-e-3"
DEFAULT_MAX_EXAMPLES: Final = STANDARD.max_examples


@dataclass
class Plan:
    """The ordered cases of a run, their coverage (JSON data) and the ids the cap removed."""

    op: Operation = field(repr=False)
    cases: list[Case]
    coverage: dict[str, Any]
    cut: list[str] = field(default_factory=list)
    dropped: list[Case] = field(default_factory=list, repr=False)
    """The cases the cap removed (their ids are `cut`)."""
    seed: int = 0
    preset: Preset = field(default_factory=lambda: preset(DEFAULT_PRESET))
    model: str = DEFAULT_MODEL

    def cost(self, table: PriceTable | None = None) -> dict[str, Any]:
        """The estimated price of the images the cases ask for (default table: list prices)."""
        return estimate(self.cases, self.op, self.model, table or load_price_table())

    def summary(self) -> dict[str, Any]:
        """Cases by kind and expectation, requests, images requested and coverage reached."""
        return {
            "budget": self.preset.name,
            "seed": self.seed,
            "requests": len(self.cases),
            "cases_by_kind": dict(Counter(c.kind for c in self.cases)),
            "cases_by_expect": dict(Counter(c.expect for c in self.cases)),
            "random_cases": sum(1 for c in self.cases if RANDOM in c.tags),
            "images_requested": sum(c.images_requested(self.op) for c in self.cases),
            "coverage": reached(self.coverage),
            "cut": len(self.cut),
        }


def build_plan(
    op: Operation,
    *,
    seed: int = 0,
    max_examples: int | None = None,
    model: str = DEFAULT_MODEL,
    max_requests: int | None = None,
    budget_name: str = DEFAULT_PRESET,
    prices: PriceTable | None = None,
    keep: Callable[[Case], bool] | None = None,
    essential: Callable[[list[Case]], list[str]] | None = None,
) -> Plan:
    """Every case the budget preset calls for: negatives first (a conforming gateway refuses
    them, so they cost no image), then pairwise rows (smoke: single values), boundaries,
    named cases, and `max_examples` random bodies drawn from `seed` (default: the preset's).
    Cases that vary neither size nor quality ask for the cheapest of both (by `prices`).
    Only the cases `keep` accepts are planned (a selection of checks keeps those its checks
    can judge); then, with `max_requests`, at most that many are kept: first the ids
    `essential(cases)` names (e.g. one case per MUST check), then coverage-critical ones.
    """
    require_understood(op)
    judge = BodyJudge(op)
    judge.require_valid_base(base_body(op, model))
    chosen = preset(budget_name)
    cost = ImageCost(op, model, prices or load_price_table())
    cheapest = cost.cheapest()
    pairs = _rows(op, model, cost, chosen, prices)
    families = 1 if chosen.parity_families == "cheapest" else None
    named = [
        *boundary_cases(
            op,
            model,
            cheapest,
            count_maximum=chosen.count_maximum,
            sent=pairs if chosen.boundaries_once else (),
        ),
        *special_cases(
            op,
            model,
            cheapest,
            parity_families=families,
            cost=cost,
            prompts_sent=rows_prompts(pairs),
            transparent_stream=chosen.transparent_stream,
        ),
        *(accept_cases(op, cheap_body(op, model, cheapest)) if chosen.accept_variants else ()),
    ]
    explicit = [*pairs, *named]
    seen = frozenset(body_key(c.body) for c in explicit if _plain(c))
    examples = chosen.max_examples if max_examples is None else max_examples
    randoms = _random_cases(op, model, seed, examples, seen)
    negatives = negative_cases(op, base_body(op, model))
    covering = branch_cases(op, cheap_body(op, model, cheapest), [*explicit, *randoms])
    valid, refused = judge.split([*explicit, *covering, *randoms])
    cases = [*negatives, *valid]
    tiers = {
        **_pair_tiers(op, pairs),
        **{c.id: budget.NAMED for c in [*named, *covering]},
        **_negative_tiers(negatives),
        **{c.id: budget.RANDOM for c in randoms},
    }
    selected = cases if keep is None else [c for c in cases if keep(c)]
    first = essential(selected) if essential and max_requests is not None else []
    kept, cut = budget.apply_budget(selected, tiers, max_requests, first)
    coverage = plan_coverage(op, kept)
    coverage["refused_by_schema"] = refused
    if keep is not None:
        coverage["selection"] = {"planned": len(cases), "kept": len(selected)}
    coverage["plan"] = {
        "seed": seed,
        "max_examples": examples,
        "model": model,
        **chosen.describe(),
        "cheapest": cheapest,
    }
    coverage["cut"] = {
        "max_requests": max_requests,
        "planned": len(selected),
        "kept": len(kept),
        "cases": [c.id for c in cut],
        "by_reason": dict(Counter(budget.TIER_NAMES[tiers[c.id]] for c in cut)),
    }
    return Plan(
        op=op,
        cases=kept,
        coverage=coverage,
        cut=[c.id for c in cut],
        dropped=cut,
        seed=seed,
        preset=chosen,
        model=model,
    )


def _rows(
    op: Operation, model: str, cost: ImageCost, chosen: Preset, prices: PriceTable | None
) -> list[Case]:
    """The preset's rows (all pairs, or single values): the same for every seed, so built once
    per operation, model, price table and preset in a process (a loop of seeds, the shards and
    replays of one run), for the last `_ROWS_KEPT` of them."""
    key = (id(op), model, id(prices), chosen.name)
    with _ROWS_LOCK:
        found = _ROWS.get(key)
    if found is not None and found[0] is op and found[1] is prices:
        return found[2]
    if chosen.rows == "values":
        prompts = TEXT_PROMPTS if chosen.prompts_on_rows and PROMPT_FIELD in op.properties else {}
        rows = value_cases(op, model, cost, prompts)
    else:
        rows = pairwise_cases(op, model, cost)
    with _ROWS_LOCK:
        while len(_ROWS) >= _ROWS_KEPT:
            _ROWS.pop(next(iter(_ROWS)))
        _ROWS[key] = (op, prices, rows)  # holds `op` and `prices`: their ids stay theirs
    return rows


_ROWS: dict[tuple[object, ...], tuple[Operation, PriceTable | None, list[Case]]] = {}
_ROWS_LOCK = threading.Lock()
_ROWS_KEPT: Final = 8


def _plain(case: Case) -> bool:
    return case.deployment is None and not case.omit_api_version and case.api_version is None


def _random_cases(
    op: Operation, model: str, seed: int, count: int, seen: frozenset[str]
) -> list[Case]:
    if count <= 0:
        return []  # no random bodies: schemathesis is not even loaded (smoke)
    cases = []
    for number, body in enumerate(draw_bodies(op, model, seed, count, seen), start=1):
        digest = hashlib.sha256(body_key(body).encode()).hexdigest()[:8]
        title = f"random body {number} (seed {seed})"
        cases.append(
            positive_case(f"random-{number:03d}-{digest}", title, body, op, tags=(RANDOM,))
        )
    return cases


def _pair_tiers(op: Operation, pairs: list[Case]) -> dict[str, int]:
    """Rows that first send some value go first; the others only add pairs."""
    domains = columns(op)
    sent: set[tuple[str, str]] = set()
    tiers = {}
    for case in pairs:
        values = {(name, value_key(case.field(name, op))) for name in domains if name in case.body}
        values |= {(name, "absent") for name in domains if name not in case.body}
        tiers[case.id] = budget.VALUE_ROWS if values - sent else budget.PAIR_ROWS
        sent |= values
    return tiers


def _negative_tiers(negatives: list[Case]) -> dict[str, int]:
    rules: set[str | None] = set()
    tiers = {}
    for case in negatives:
        tiers[case.id] = budget.RULE_OTHERS if case.rule in rules else budget.RULE_FIRSTS
        rules.add(case.rule)
    return tiers
