"""The suite against Schemathesis on the same gateway: requests/s and check results/s.

The two take turns (ours, theirs, ours, theirs, ...), each round against a fresh gateway and
in a fresh process (`suite_loop.py` for ours), so that a drift of the machine's speed reaches
both alike and neither carries warm caches from a round before. Each figure is the median of
the per-round ratios, with their range. Both sides are timed by the same instrument, the
gateway: from its first request to the end of its last one (`servers.py` counts them), which
leaves out both start-ups (imports, spec loading). Each tool's whole wall time and CPU time,
start-up included, give the other ratios in the notes; on a machine with other load the CPU
ratio usually moves least (a tool that waits on each answer in turn, as Schemathesis does by
default, loses more wall time to a busy machine than one with requests in flight).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from harness import HERE, child, served
from measure import Row, children_cpu, row

from conformance.spec import DEFAULT_SPEC

BENCH = "vs schemathesis"
Clock = Literal["window", "wall", "cpu"]
Count = Literal["requests", "checks", "tests"]


@dataclass(frozen=True)
class Side:
    """One tool's round against a fresh gateway."""

    requests: int
    """Every request the gateway served it (its own bench requests left out)."""
    image_fetches: int
    """Of which GETs of generated image URLs (the suite fetches them; Schemathesis does not)."""
    checks: int
    """Check results: the suite's judgements; Schemathesis's recorded results."""
    window_s: float
    """From the gateway's first request to the end of its last one."""
    wall_s: float
    """The tool's process from start to exit."""
    cpu_s: float
    """The tool's process's CPU time, user and system, start-up included; the machine's other
    load does not lengthen it as it lengthens wall times."""

    def per(self, count: float, clock: Clock) -> float:
        seconds = {"window": self.window_s, "wall": self.wall_s, "cpu": self.cpu_s}[clock]
        return count / seconds


Round = tuple[Side, Side]
"""(ours, theirs), measured one after the other."""


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.2f}x (range {self.low:.2f}..{self.high:.2f})"


def spread(values: Sequence[float]) -> Spread:
    """The median and the range of per-round values."""
    if not values:
        raise ValueError("no rounds to summarise")
    return Spread(statistics.median(values), min(values), max(values))


def versus_schemathesis(budget_s: float, rounds: int = 3) -> list[Row]:
    """`rounds` interleaved rounds of `budget_s` seconds per side, same spec, same gateway."""
    if rounds < 1:
        raise ValueError("--peer-rounds must be at least 1")
    measured = [(_ours(budget_s), _theirs(budget_s, seed)) for seed in range(rounds)]
    return peer_rows(measured, budget_s)


def peer_rows(rounds: Sequence[Round], budget_s: float) -> list[Row]:
    """The figures: each side's median rate, and the median and range of the per-round
    ratios (a ratio is taken within a round, never across rounds)."""
    requests = spread([ratio(r, "requests") for r in rounds])
    checks = spread([ratio(r, "checks") for r in rounds])
    tests_only = spread([ratio(r, "tests") for r in rounds])
    by_wall = spread([ratio(r, "requests", "wall") for r in rounds])
    by_cpu = spread([ratio(r, "requests", "cpu") for r in rounds])
    checks_by_cpu = spread([ratio(r, "checks", "cpu") for r in rounds])
    timing = (
        f"median of {len(rounds)} interleaved rounds of {budget_s:g}s per side, each on a fresh "
        "gateway; rates over each tool's first to last request at the gateway"
    )
    return [
        side_row("conformance", [r[0] for r in rounds]),
        side_row("schemathesis", [r[1] for r in rounds]),
        row(
            BENCH,
            "requests/s ratio",
            requests.median,
            "x",
            ">= 6",
            f"{timing}; range {requests.low:.2f}..{requests.high:.2f}; without image URL "
            f"fetches {tests_only}; by each tool's whole wall time instead (start-up in it) "
            f"{by_wall}; per CPU second of each tool (start-up in it) {by_cpu}",
        ),
        row(
            BENCH,
            "check results/s ratio",
            checks.median,
            "x",
            ">= 4",
            f"{timing}; range {checks.low:.2f}..{checks.high:.2f}; Schemathesis's results as "
            "its report records them, one per check per request, checks that had nothing to "
            "judge (returned early) counted as passed; the suite's only where a check judged; "
            f"per CPU second of each tool (start-up in it) {checks_by_cpu}",
        ),
    ]


def side_row(tool: str, sides: Sequence[Side]) -> Row:
    """One tool's median requests/s; each round's rates and times in the note."""

    def each(what: Count) -> str:
        return ", ".join(f"{rate_of(side, what):.1f}" for side in sides)

    times = ", ".join(f"{s.wall_s:.1f}/{s.cpu_s:.1f}/{s.window_s:.1f}s" for s in sides)
    fetches = sum(s.image_fetches for s in sides)
    return row(
        BENCH,
        f"{tool} requests/s",
        statistics.median(rate_of(s, "requests") for s in sides),
        "req/s",
        note=f"per round {each('requests')} req/s, {each('checks')} check results/s; process "
        f"wall / CPU / gateway window {times}; {fetches} of {sum(s.requests for s in sides)} "
        "requests are image URL fetches",
    )


def rate_of(side: Side, what: Count, clock: Clock = "window") -> float:
    """Requests, check results or requests other than image URL fetches ("tests"), per second
    of `clock`."""
    counts = {
        "requests": side.requests,
        "checks": side.checks,
        "tests": side.requests - side.image_fetches,
    }
    return side.per(counts[what], clock)


def ratio(one: Round, what: Count, clock: Clock = "window") -> float:
    """Ours over theirs within a round, both by the same clock."""
    ours, theirs = one
    return rate_of(ours, what, clock) / rate_of(theirs, what, clock)


def _ours(budget_s: float) -> Side:
    """Default runs (seeds 0, 1, ...) in a fresh process until the budget is spent."""
    with served("gateway") as url:
        cmd = [sys.executable, str(HERE / "suite_loop.py"), url, str(budget_s)]
        cpu = children_cpu()  # the round's gateway is not reaped yet: the suite alone
        wall, out = child(cmd, timeout_s=budget_s * 4 + 60)
        cpu = children_cpu() - cpu
        checks = int(json.loads(out or "{}").get("checks", 0))
        return _side(url, checks, wall, cpu, " ".join(cmd))


def _theirs(budget_s: float, seed: int) -> Side:
    """One `schemathesis run` with every check and a budget of `budget_s` seconds (a seed per
    round, so that two benches draw the same cases, as the suite's seeds do)."""
    with served("gateway") as url, tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            str(DEFAULT_SPEC),
            "--url",
            url,
            "--checks",
            "all",
            "--max-time",
            str(int(budget_s)),
            "--report",
            "ndjson",
            "--report-dir",
            tmp,
            "--seed",
            str(seed),
        ]
        cpu = children_cpu()  # the round's gateway is not reaped yet: Schemathesis alone
        wall, _ = child(cmd, timeout_s=budget_s * 4 + 60)
        cpu = children_cpu() - cpu
        return _side(url, ndjson_checks(Path(tmp)), wall, cpu, " ".join(cmd))


def _side(url: str, checks: int, wall_s: float, cpu_s: float, who: str) -> Side:
    seen = httpx.get(url + "/__bench/count", timeout=5).json()
    window = float(seen["last_s"]) - float(seen["first_s"])
    if not seen["requests"] or not checks or window <= 0:
        raise RuntimeError(
            f"{who}: {seen['requests']} requests, {checks} check results: the run failed"
        )
    return Side(int(seen["requests"]), int(seen["image_fetches"]), checks, window, wall_s, cpu_s)


def ndjson_checks(folder: Path) -> int:
    """Check results in Schemathesis's NDJSON report: each finished scenario's recorder holds,
    per test case (one request each), one node per check it ran: passed, failed or crashed.
    A check that returns early is recorded as passed; one that asks to be skipped is not
    recorded."""
    total = 0
    for path in folder.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if finished:
                for results in (finished.get("recorder") or {}).get("checks", {}).values():
                    total += len(results)
    return total
