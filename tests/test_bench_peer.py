"""The arithmetic of the bench against Schemathesis (benchmarks/peer.py), without running it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peer  # noqa: E402


def side(
    requests: int, checks: int, window_s: float = 10.0, wall_s: float = 10.0, cpu_s: float = 5.0
) -> peer.Side:
    return peer.Side(requests, 0, checks, window_s, wall_s, cpu_s)


def figure(rows: list[dict[str, object]], metric: str) -> dict[str, object]:
    return next(r for r in rows if r["metric"] == metric)


def test_spread_is_median_and_range() -> None:
    assert peer.spread([3.0, 1.0, 8.0]) == peer.Spread(3.0, 1.0, 8.0)
    assert peer.spread([2.0, 4.0]) == peer.Spread(3.0, 2.0, 4.0)
    with pytest.raises(ValueError):
        peer.spread([])


def test_ratio_is_taken_within_each_round() -> None:
    """Per-round ratios 5x, 3x, 8x: the figure is 5x; the ratio of the medians would be 8x."""
    rounds = [
        (side(1000, 4000), side(200, 3000)),
        (side(3000, 6000), side(1000, 6000)),
        (side(2000, 8000), side(250, 2000)),
    ]
    rows = peer.peer_rows(rounds, 10.0)
    requests = figure(rows, "requests/s ratio")
    assert requests["value"] == 5.0
    assert "range 3.00..8.00" in str(requests["note"])
    checks = figure(rows, "check results/s ratio")
    assert checks["value"] == pytest.approx(4000 / 3000, abs=1e-3)
    assert "range 1.00..4.00" in str(checks["note"])
    assert figure(rows, "schemathesis requests/s")["value"] == 25.0


def test_each_ratio_takes_both_sides_by_the_same_clock() -> None:
    """Schemathesis's start-up lengthens its wall time, not its window at the gateway."""
    ours = side(600, 600, window_s=10.0, wall_s=10.0, cpu_s=6.0)
    theirs = side(100, 100, window_s=10.0, wall_s=20.0, cpu_s=4.0)
    assert peer.ratio((ours, theirs), "requests") == 6.0
    assert peer.ratio((ours, theirs), "requests", "wall") == 12.0
    assert peer.ratio((ours, theirs), "requests", "cpu") == 4.0


def test_ndjson_checks_counts_each_recorded_check_result(tmp_path: Path) -> None:
    recorder = {"checks": {"a": [{"status": "success"}] * 3, "b": [{"status": "failure"}]}}
    events = [
        {"Initialize": {}},
        {"ScenarioFinished": {"recorder": recorder}},
        {"ScenarioFinished": {"recorder": {"checks": {"c": [{"status": "error"}]}}}},
        {"ScenarioFinished": {"recorder": None}},
        {"EngineFinished": {}},
    ]
    (tmp_path / "run.ndjson").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    assert peer.ndjson_checks(tmp_path) == 5
