"""`make bench`: measurements of the suite's cost in time and memory, written to
`reports/bench/latest.json` and `reports/bench/latest.md` (with the machine they ran on).

Benchmarks are measurements: a missed target is printed in the table, never a test failure;
a benchmark that breaks is a FAILED row and a non-zero exit. `--only NAME` runs some of them;
`--latency-budget smoke` measures the worker scaling on a smoke run instead of a standard one
(which takes about four minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import peer  # noqa: E402
from harness import ROOT  # noqa: E402

OUT = ROOT / "reports" / "bench"


def benches(args: argparse.Namespace) -> dict[str, Callable[[], list[dict[str, Any]]]]:
    return {
        "overhead": measure.client_overhead,
        "schemathesis": lambda: peer.versus_schemathesis(args.peer_budget_s, args.peer_rounds),
        "validation": measure.validation,
        "sse": measure.sse_throughput,
        "memory": measure.memory,
        "startup": measure.startup,
        "spec": measure.spec_loading,
        "default": measure.default_run,
        "latency": lambda: measure.latency_scaling(
            args.latency_budget, workers=tuple(int(w) for w in args.latency_workers.split(","))
        ),
        "faults": measure.fault_sweep,
        "hostile": _hostile,
        "false-red": lambda: _false_red(args),
    }


def _hostile() -> list[dict[str, Any]]:
    """Peak RSS and wall time against the worst hostile gateways (benchmarks/hostile_bench.py)."""
    from hostile_bench import hostile_rows

    return hostile_rows()


def _false_red(args: argparse.Namespace) -> list[dict[str, Any]]:
    """False failures in repeated runs against the conforming reference gateway
    (benchmarks/false_red.py)."""
    from false_red import false_red_rows

    return false_red_rows(args.false_red_runs, args.false_red_delayed)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "date": _now(),
    }


def markdown(benches: dict[str, dict[str, Any]], host: dict[str, Any]) -> str:
    """The table; a bench measured at another time than the last run (`--only`) says when."""
    lines = [
        f"Measured {host['date']} on {host['platform']}, {host['cpus']} CPUs, "
        f"Python {host['python']} (`make bench`); a note's load is the machine's one-minute "
        "load average when that part ended.",
        "",
        "| bench | metric | value | target | note |",
        "|---|---|---|---|---|",
    ]
    for part in benches.values():
        when = "" if part["date"][:13] == host["date"][:13] else f" (measured {part['date']})"
        if "load_average" in part:  # a busy machine slows wall times and ratios alike
            when += f" (load {part['load_average']:g})"
        for r in part["rows"]:
            value = f"{r['value']:g} {r['unit']}"
            note = f"{r['note']}{when}".strip()
            lines.append(f"| {r['bench']} | {r['metric']} | {value} | {r['target']} | {note} |")
    return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _previous(out: Path) -> dict[str, dict[str, Any]]:
    """The benches of the last written table (`--only` replaces just the ones it runs)."""
    try:
        document = json.loads((out / "latest.json").read_text())
    except (OSError, ValueError):
        return {}
    benches = document.get("benches")
    return dict(benches) if isinstance(benches, dict) else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="run only these benchmarks")
    parser.add_argument(
        "--peer-budget-s", type=float, default=20.0, help="seconds per side and round"
    )
    parser.add_argument(
        "--peer-rounds",
        type=int,
        default=3,
        help="rounds of the suite and Schemathesis taking turns (the figure is their median)",
    )
    parser.add_argument("--latency-budget", default="standard", choices=["smoke", "standard"])
    parser.add_argument(
        "--latency-workers", default="1,4,16", help="worker counts of the latency bench"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--false-red-runs", type=int, default=50, help="direct runs")
    parser.add_argument("--false-red-delayed", type=int, default=5, help="runs behind a 3s delay")
    args = parser.parse_args()
    chosen = benches(args)
    names = args.only or list(chosen)
    measured = _previous(args.out) if args.only else {}
    failed: list[str] = []
    for name in names:
        started = time.perf_counter()
        try:
            found = chosen[name]()
        except Exception as exc:  # a broken bench is a row that says so, and a failed exit
            failed.append(name)
            note = f"{exc.__class__.__name__}: {exc}"[:300]
            found = [
                {
                    "bench": name,
                    "metric": "FAILED",
                    "value": 0,
                    "unit": "",
                    "target": "",
                    "note": note,
                }
            ]
        seconds = round(time.perf_counter() - started, 1)
        for r in found:
            print(
                f"{r['bench']:16} {r['metric']:58} {r['value']:>10g} {r['unit']:15} {r['target']}"
            )
        measured[name] = {
            "date": _now(),
            "seconds": seconds,
            "load_average": round(os.getloadavg()[0], 2),
            "rows": found,
        }
    host = machine()
    ordered = {name: measured[name] for name in chosen if name in measured}
    rows = [r for part in ordered.values() for r in part["rows"]]
    args.out.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": host,
        "seconds_per_bench": {name: part["seconds"] for name, part in ordered.items()},
        "benches": ordered,
        "rows": rows,
    }
    (args.out / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    (args.out / "latest.md").write_text(markdown(ordered, host))
    print(f"written: {args.out / 'latest.json'}, {args.out / 'latest.md'}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
