"""The suite's side of the bench against Schemathesis, in a process of its own as Schemathesis
is: default runs against URL (seeds 0, 1, ...) until BUDGET seconds are spent, counted from
when the spec is loaded. Prints {"checks", "runs"} as JSON.

  suite_loop.py URL BUDGET_S
"""

from __future__ import annotations

import json
import sys
import time

from conformance.config import RunConfig
from conformance.run import run
from conformance.spec import load_spec


def main(url: str, budget_s: float) -> None:
    spec = load_spec()
    started = time.monotonic()
    checks = runs = 0
    while time.monotonic() - started < budget_s:
        left = budget_s - (time.monotonic() - started)
        result = run(RunConfig(spec=spec, base_url=url, seed=runs, max_duration=max(left, 0.1)))
        checks += sum(c.cases_run for c in result.checks)
        runs += 1
    print(json.dumps({"checks": checks, "runs": runs}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
