"""Benchmarks: the suite's peak RSS and wall time against the worst hostile gateways.

Each gateway of `tests/hostile` that aims at memory, CPU or time gets one run of the CLI in its
own process (so each peak RSS is that run's alone), with the default bounds except a request
budget. Prints one line per gateway; fails when a run's peak RSS passes `RSS_TARGET_MB` or its
wall time `WALL_TARGET_S` (generous: these are ceilings, measured, not timed unit tests).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile import behaviours as hb  # noqa: E402 - the test servers live beside the tests
from hostile import serving  # noqa: E402
from hostile.server import Behaviour  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import conformance_peak  # noqa: E402

RSS_TARGET_MB = 600.0
"""The default body cap is 96 MiB: the suite may hold a few bodies at once, and its baseline."""
WALL_TARGET_S = 120.0
MAX_REQUESTS = 20
WORST: dict[str, tuple[Behaviour, str]] = {
    "stacked gzip bomb (256 MiB from 3 KiB)": (hb.stacked_gzip_bomb, ""),
    "pixel bomb (900 Mpx PNG header)": (hb.pixel_bomb, ""),
    "300k-item data array": (hb.wide_json, ""),
    "100k-deep JSON": (hb.deep_json, ""),
    "fat SSE fields (200 x 3 x 40 KiB)": (hb.fat_sse, ""),
    "silent gateway (default --timeout 60s)": (hb.silent, ""),
}


def measure(behaviour: Behaviour) -> tuple[float, float, int, int]:
    """Wall time (s), peak RSS (MB), exit code and report size (bytes) of one CLI run."""
    with tempfile.TemporaryDirectory() as tmp, serving(behaviour) as server:
        reports = Path(tmp) / "reports"
        wall, rss_mb, code, _ = conformance_peak(
            [
                "run",
                "--base-url",
                server.url,
                "--report-dir",
                str(reports),
                "--max-requests",
                str(MAX_REQUESTS),
                "--workers",
                "2",
            ]
        )
        size = sum(p.stat().st_size for p in reports.iterdir()) if reports.is_dir() else 0
        json.loads((reports / "results.json").read_text())  # written, and readable
        return wall, rss_mb, code, size


def bench_hostile() -> bool:
    """Every worst gateway within the RSS and wall-time ceilings, its reports written."""
    hb.stacked_gzip_body()
    ok = True
    for name, (behaviour, _) in WORST.items():
        wall, rss_mb, code, size = measure(behaviour)
        within = rss_mb <= RSS_TARGET_MB and wall <= WALL_TARGET_S
        ok = ok and within
        print(
            f"hostile {name}: wall {wall:.1f}s (target <= {WALL_TARGET_S:.0f}s), "
            f"peak RSS {rss_mb:.0f} MB (target <= {RSS_TARGET_MB:.0f} MB), exit {code}, "
            f"reports {size / 1024:.0f} KiB{'' if within else '  MISSED'}"
        )
    return ok


def hostile_rows() -> list[dict[str, object]]:
    """The same measurements as rows of `make bench`'s table."""
    hb.stacked_gzip_body()
    rows: list[dict[str, object]] = []
    for name, (behaviour, _) in WORST.items():
        wall, rss_mb, code, size = measure(behaviour)
        note = f"exit {code}, reports {size / 1024:.0f} KiB"
        rows.append(_row(f"{name}: wall", wall, "s", f"<= {WALL_TARGET_S:.0f}", note))
        rows.append(_row(f"{name}: peak RSS", rss_mb, "MB", f"<= {RSS_TARGET_MB:.0f}", note))
    return rows


def _row(metric: str, value: float, unit: str, target: str, note: str) -> dict[str, object]:
    return {
        "bench": "hostile",
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "target": target,
        "note": note,
    }


if __name__ == "__main__":
    sys.exit(0 if bench_hostile() else 1)
