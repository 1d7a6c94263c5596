"""What the terminal shows: progress while a run goes, a compact summary at the end.

Rich turns colours and the live progress bar off by itself when output is not a terminal;
`quiet` prints only the verdict line and the report path. Every printed line is redacted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console as RichConsole
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conformance.model import Status, Verdict
from conformance.redaction import Redactor
from conformance.results import RunResult
from conformance.spec import Spec

_VERDICT_STYLE = {
    Verdict.CONFORMANT: "bold green",
    Verdict.CONFORMANT_WITH_WARNINGS: "bold yellow",
    Verdict.NOT_CONFORMANT: "bold red",
    Verdict.INCONCLUSIVE: "bold yellow",
}


class Console:
    """The run's terminal output."""

    def __init__(self, quiet: bool = False, secrets: list[str] | None = None) -> None:
        self.quiet = quiet
        self.redactor = Redactor(secrets or [])
        self.out = RichConsole(highlight=False, soft_wrap=True)
        self.err = RichConsole(stderr=True, highlight=False, soft_wrap=True)

    def _say(self, text: str, style: str | None = None) -> None:
        self.out.print(self.redactor.text(text), style=style, markup=False)

    def note(self, text: str) -> None:
        if not self.quiet:
            self._say(text)

    def error(self, text: str) -> None:
        self.err.print(f"conformance: error: {self.redactor.text(text)}", markup=False)

    def starting(self, target: str, spec: Spec, seed: int) -> None:
        self.note(f"target {target}  spec {spec.title} ({spec.sha256[:12]})  seed {seed}")

    def plan(self, summary: dict[str, Any], seed: int) -> None:
        """The dry-run output: what would be sent."""
        self._say(f"dry run (seed {seed}): nothing sent")
        self._say(json.dumps(summary, indent=2, sort_keys=True, default=str))

    @contextlib.contextmanager
    def progress(self) -> Iterator[Any]:
        if self.quiet or not self.out.is_terminal:
            yield None
            return
        bar = Progress(
            TextColumn("[bold]conformance"),
            BarColumn(),
            TextColumn("{task.fields[sent]} requests  {task.fields[failures]} failures"),
            TimeElapsedColumn(),
            console=self.out,
            transient=True,
        )
        task = bar.add_task("run", total=None, sent=0, failures=0)

        def tick(sent: int, failures: int, environment: int) -> None:
            bar.update(task, sent=sent, failures=failures)

        with bar:
            yield tick

    def summary(self, result: RunResult, paths: dict[str, Path]) -> None:
        gate = result.gate
        verdict = gate.verdict
        line = gate.headline
        report = paths.get("html") or next(iter(paths.values()), None)
        if self.quiet:
            for reason in gate.reasons:
                self._say(reason)
            self._say(f"{line}  report: {report}")
            return
        table = Table(title=None, show_edge=False, pad_edge=False)
        for column in ("check", "level", "run", "passed", "failed", "status"):
            table.add_column(column)
        order = {Status.FAILED.value: 0, Status.ERROR.value: 1}
        shown = sorted(result.checks, key=lambda c: (order.get(c.status, 2), c.check_id))
        for c in shown:
            if c.status in (Status.FAILED.value, Status.ERROR.value):
                table.add_row(
                    c.check_id, c.level, str(c.cases_run), str(c.passed), str(c.failed), c.status
                )
        if table.row_count:
            self.out.print(table)
            for c in shown:
                if c.failures:
                    self._say(f"  {c.check_id}: {c.failures[0].message}")
        passed = sum(c.status == Status.PASSED.value for c in result.checks)
        failed = sum(c.status == Status.FAILED.value for c in result.checks)
        skipped = sum(c.status == Status.SKIPPED.value for c in result.checks)
        stats = result.stats
        self._say(
            f"{passed} checks passed, {failed} failed, {skipped} not applicable; "
            f"{stats.requests} requests, {stats.images} images requested, {stats.duration_s:.1f}s"
        )
        if result.environment_problems:
            self._say(
                f"{len(result.environment_problems)} answers were 401/403/429 "
                "(environment, not conformance)"
            )
        for entry in gate.known:
            self._say(f"known failure (baseline): {entry.check_id}: {entry.reason}")
        for entry in gate.expired:
            self._say(f"baseline entry expired {entry.expires}: {entry.check_id}", style="red")
        for entry in gate.stale:
            self._say(f"stale baseline entry (no longer failing): {entry.check_id}")
        for reason in gate.reasons:
            self._say(reason, style="yellow")
        self._say(line, style=_VERDICT_STYLE.get(verdict))
        for name, path in paths.items():
            self._say(f"{name}: {path}")
