"""A run, phase by phase: plan -> send -> judge -> record.

`plan` (the cases), `dry_run` (what `--dry-run` says; `preview`, the verdict it foresees),
`target` (the gateway: given, or the embedded pair), `reach` (is anything listening), `send`
(budget, rate, workers, retries, the stop watcher), `arrivals` (route preflight, an
unresponsive gateway), `judge` (checks; `shrinking`, `upstream` views), `result` (the
`RunResult`), and `execute`, which runs them in order.
"""

from conformance.run.dry_run import dry_run_summary
from conformance.run.execute import run
from conformance.run.plan import make_plan, selected_checks
from conformance.run.target import EMBEDDED_CLIENT_KEY, target

__all__ = [
    "EMBEDDED_CLIENT_KEY",
    "dry_run_summary",
    "make_plan",
    "run",
    "selected_checks",
    "target",
]
