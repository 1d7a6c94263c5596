"""One run from its shards: `conformance merge a.json b.json ... --report-dir DIR`.

Each shard of a `--shard I/N` run judged a disjoint part of the same plan, parity groups whole,
so adding up each check's counts gives what the unsharded run would have counted, and the gate
(`conformance.gate.decide`) reaches the same verdict. Shards of different runs (spec, seed,
selected checks, strict mode, baseline) are refused; a missing shard makes the merged run
INCOMPLETE, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from conformance.errors import ResultsError
from conformance.results import CheckResult, RunResult, Stats

SHARD_KIND = "shard"

SHARD_KEY = "shard"
COST_KEY = "cost_estimate"
SUMMED = ("total", "upper_bound", "images_priced", "images_unpriced")


def merge_results(results: Sequence[RunResult], sources: Sequence[str] = ()) -> RunResult:
    """The run the shards `results` (read from `sources`, for messages) add up to."""
    if not results:
        raise ResultsError("merge: no results to merge")
    names = list(sources) or [f"results #{i + 1}" for i in range(len(results))]
    shards = [_shard_of(r, name) for r, name in zip(results, names, strict=True)]
    first = results[0]
    _same_run(results, names)
    count = shards[0]["count"]
    seen: dict[int, str] = {}
    for shard, name in zip(shards, names, strict=True):
        if shard["count"] != count:
            raise ResultsError(f"merge: {name} is a shard of {shard['count']}, not of {count}")
        if shard["index"] in seen:
            twice = f"{seen[shard['index']]}, {name}"
            raise ResultsError(f"merge: shard {shard['index']}/{count} given twice ({twice})")
        seen[shard["index"]] = name
    missing = [i for i in range(1, count + 1) if i not in seen]
    reasons = [
        f"shard {shard['index']}/{count}: {r.incomplete_reason or 'incomplete'}"
        for r, shard in zip(results, shards, strict=True)
        if r.incomplete
    ]
    if missing:
        listed = ", ".join(f"{i}/{count}" for i in missing)
        reasons.append(f"shard {listed} missing: its cases were not judged")
    return replace(
        first,
        target=", ".join(dict.fromkeys(r.target for r in results)),
        started_at=min(r.started_at for r in results),
        stats=Stats(
            requests=sum(r.stats.requests for r in results),
            images=sum(r.stats.images for r in results),
            cases=sum(r.stats.cases for r in results),
            duration_s=max(r.stats.duration_s for r in results),
        ),
        checks=_merged_checks(results, bool(missing)),
        environment_problems=[p for r in results for p in r.environment_problems],
        coverage=_merged_coverage(results, shards, names),
        incomplete=bool(reasons),
        incomplete_reason="; ".join(reasons),
    )


def _shard_of(result: RunResult, name: str) -> dict[str, Any]:
    shard = result.coverage.get(SHARD_KEY)
    if not isinstance(shard, dict) or not {"index", "count"} <= shard.keys():
        raise ResultsError(f"merge: {name} is not the result of a --shard run")
    return shard


def _same_run(results: Sequence[RunResult], names: Sequence[str]) -> None:
    """Refuse shards that do not belong to one run."""
    first = results[0]

    def identity(r: RunResult) -> dict[str, Any]:
        return {
            "spec": r.spec_sha256,
            "seed": r.seed,
            "operation": r.operation,
            "strict": r.strict,
            "plan": r.coverage.get("plan"),
            "checks": sorted(c.check_id for c in r.checks),
            "baseline": r.baseline.to_dict() if r.baseline else None,
        }

    expected = identity(first)
    for result, name in zip(results[1:], names[1:], strict=True):
        got = identity(result)
        differ = [k for k in expected if expected[k] != got[k]]
        if differ:
            raise ResultsError(
                f"merge: {name} is not a shard of the same run as {names[0]} "
                f"(different {', '.join(differ)})"
            )


def _merged_checks(results: Sequence[RunResult], missing: bool) -> list[CheckResult]:
    """Counts added up. A check no shard judged keeps a shard's reason other than "its cases
    are in other shards"; when every shard says that, the missing shards held its cases (or,
    with none missing, the whole plan had none)."""
    merged: dict[str, CheckResult] = {}
    for result in results:
        for check in result.checks:
            into = merged.setdefault(
                check.check_id,
                replace(check, cases_run=0, passed=0, failed=0, errors=0, failures=[]),
            )
            if into.unjudged_kind == SHARD_KIND:
                into.unjudged_kind, into.unjudged_reason = (
                    check.unjudged_kind,
                    check.unjudged_reason,
                )
            into.cases_run += check.cases_run
            into.passed += check.passed
            into.failed += check.failed
            into.errors += check.errors
            into.failures.extend(check.failures)
    for check in merged.values():
        check.settle()
        if check.unjudged_kind == SHARD_KIND:
            check.unjudged_kind, check.unjudged_reason = (
                ("missing-shard", "the shard that held their cases was not merged")
                if missing
                else ("document", "no shard of the plan had a case for them")
            )
    return list(merged.values())


def _merged_coverage(
    results: Sequence[RunResult], shards: Sequence[dict[str, Any]], names: Sequence[str]
) -> dict[str, Any]:
    """The whole plan's coverage (each shard records it), the shards' costs added up, and which
    shard sent what."""
    coverage = {k: v for k, v in results[0].coverage.items() if k != SHARD_KEY}
    whole = shards[0].get("plan_coverage")
    if isinstance(whole, dict):
        coverage.update(whole)
    costs = [r.coverage.get(COST_KEY) for r in results]
    if all(isinstance(c, dict) for c in costs):
        coverage[COST_KEY] = _summed_cost([c for c in costs if isinstance(c, dict)])
    coverage["shards"] = [
        {"index": s["index"], "count": s["count"], "cases": s.get("cases"), "source": name}
        for s, name in sorted(zip(shards, names, strict=True), key=lambda p: p[0]["index"])
    ]
    return coverage


def _summed_cost(costs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each shard's cost estimate (`coverage.cost_estimate`) added up: the merged run paid for
    every shard's images, not the first one's."""
    merged = dict(costs[0])
    for key in SUMMED:
        values = [c.get(key) for c in costs]
        numbers = [v for v in values if isinstance(v, int | float)]
        merged[key] = round(sum(numbers), 4) if len(numbers) == len(values) else None
    unpriced: dict[str, int] = {}
    for cost in costs:
        for name, count in (cost.get("unpriced") or {}).items():
            unpriced[name] = unpriced.get(name, 0) + int(count)
    merged["unpriced"] = dict(sorted(unpriced.items()))
    return merged
