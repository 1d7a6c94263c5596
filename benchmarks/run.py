"""Benchmarks: the default run's wall time and memory against the embedded reference gateway.

Targets (from the product's contract): a default run against a gateway on loopback finishes in
at most 30 s on 2 cores, and so does a default run against each fault of the catalogue.
Prints one line per measurement; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

from conformance.config import RunConfig
from conformance.runner import run
from conformance.spec import load_spec
from conformance.targets.server import running_gateway

DEFAULT_RUN_TARGET_S = 30.0


def bench_default_run(repeat: int) -> bool:
    spec = load_spec()
    times, requests, images = [], 0, 0
    with running_gateway(spec) as url:
        for seed in range(repeat):
            started = time.perf_counter()
            result = run(RunConfig(spec=spec, base_url=url, seed=seed))
            times.append(time.perf_counter() - started)
            requests, images = result.stats.requests, result.stats.images
    worst = max(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"default run: median {statistics.median(times):.2f}s, worst {worst:.2f}s "
        f"(target <= {DEFAULT_RUN_TARGET_S:.0f}s) over {repeat} seeds; "
        f"{requests} requests, {images} images; peak RSS {rss_mb:.0f} MB (suite + gateway)"
    )
    return worst <= DEFAULT_RUN_TARGET_S


def bench_fault_sweep() -> bool:
    """Every fault of the catalogue, default run each: the slowest must stay within budget."""
    from conformance.targets.faults import FAULTS

    spec = load_spec()
    durations: dict[str, float] = {}
    for fault_id in FAULTS:
        with running_gateway(spec, fault_id) as url:
            started = time.perf_counter()
            run(RunConfig(spec=spec, base_url=url))
            durations[fault_id] = time.perf_counter() - started
    slowest = max(durations, key=durations.__getitem__)
    print(
        f"fault sweep: {len(durations)} faults, "
        f"median {statistics.median(durations.values()):.2f}s, "
        f"slowest {slowest} {durations[slowest]:.2f}s (target <= {DEFAULT_RUN_TARGET_S:.0f}s)"
    )
    return durations[slowest] <= DEFAULT_RUN_TARGET_S


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = bench_default_run(args.repeat)
    ok = bench_fault_sweep() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
