"""The false-red rate: repeated whole runs against the conforming reference gateway, directly and
behind a latency proxy (a provider's delay), counting the runs whose verdict was not a pass.

A conforming gateway must never be NOT CONFORMANT: every failure counted here is a false
failure of the suite (its own transport, a timing window that does not scale). An INCOMPLETE
run is counted apart (no false failure, but no pass either).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from measure import Row, row

from conformance.config import RunConfig
from conformance.gate import decide
from conformance.run import make_plan, run
from conformance.spec import load_spec
from conformance.targets.latency import Latency, running_latency_proxy
from conformance.targets.server import running_gateway


def _runs(base: RunConfig, url: str, count: int) -> tuple[Counter[str], list[str]]:
    """`count` runs (seeds 0..count-1) against `url`: verdicts, and the failing checks seen."""
    verdicts: Counter[str] = Counter()
    failing: list[str] = []
    for seed in range(count):
        config = replace(base, base_url=url, seed=seed)
        make_plan(config)
        result = run(config)
        verdicts[decide(result).verdict.value] += 1
        failing += [f"seed {seed}: {c.check_id}" for c in result.checks if c.failures]
    return verdicts, failing


def false_red_rows(direct: int = 50, delayed: int = 5, delay_s: float = 3.0) -> list[Row]:
    """Rows: false failures in `direct` runs and in `delayed` runs behind a `delay_s` proxy."""
    spec = load_spec()
    base = RunConfig(spec=spec)
    rows: list[Row] = []
    with running_gateway(spec) as gateway:
        for name, count, latency in (
            (f"{direct} direct runs", direct, None),
            (f"{delayed} runs behind a {delay_s:g}s delay", delayed, Latency(delay_s=delay_s)),
        ):
            if not count:
                continue
            if latency is None:
                verdicts, failing = _runs(base, gateway, count)
            else:
                with running_latency_proxy(gateway, latency) as url:
                    verdicts, failing = _runs(base, url, count)
            bad = count - verdicts["CONFORMANT"] - verdicts["INCOMPLETE"]
            note = ", ".join(f"{n} {v}" for v, n in verdicts.items())
            if failing:
                note += "; " + ", ".join(failing[:5])
            rows.append(row("false red", f"false failures, {name}", bad, "runs", "0", note))
            rows.append(
                row("false red", f"INCOMPLETE, {name}", verdicts["INCOMPLETE"], "runs", "0")
            )
    return rows
