"""What the terminal shows: progress while a run goes, a compact summary at the end.

Rich turns colours and the live progress bar off by itself when output is not a terminal;
`quiet` prints only the verdict line and the report path. Every printed line is redacted.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console as RichConsole
from rich.table import Table

from conformance.environment import environment_lines, rejudged_line, timing_retry_line
from conformance.gate import decide
from conformance.model import Status, Verdict
from conformance.plan.prices import estimate_line
from conformance.progress import BarProgress, LineProgress, NoProgress, RunProgress
from conformance.redaction import Redactor
from conformance.results import RunResult, unjudged_counts
from conformance.spec import Spec

MAX_VALUE_CHARS = 300
"""Text that came from the gateway is cut to this on the terminal (the report keeps it all)."""
MAX_REASON_CHARS = 1000
"""A gate reason (our sentence, possibly quoting the gateway) is cut to this."""
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str, keep_newlines: bool = True) -> str:
    """`text` with control characters (ESC, OSC, BEL, C1, bidirectional overrides) shown as
    `\\xNN`/`\\uNNNN` escapes, so a gateway cannot drive the terminal."""
    shown = _CONTROL.sub(_escape, text)
    return shown if keep_newlines else shown.replace("\n", "\\n").replace("\t", "\\t")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more chars)"


def gateway_text(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """A value that may hold what the gateway sent: one line, visible, at most `limit`."""
    return visible(shorten(text, limit), keep_newlines=False)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_VERDICT_STYLE = {
    Verdict.CONFORMANT: "bold green",
    Verdict.CONFORMANT_WITH_WARNINGS: "bold yellow",
    Verdict.NOT_CONFORMANT: "bold red",
    Verdict.INCONCLUSIVE: "bold yellow",
    Verdict.INCOMPLETE: "bold yellow",
}


class Console:
    """The run's terminal output."""

    def __init__(self, quiet: bool = False, secrets: list[str] | None = None) -> None:
        self.quiet = quiet
        self.redactor = Redactor(secrets or [])
        self.out = RichConsole(highlight=False, soft_wrap=True)
        self.err = RichConsole(stderr=True, highlight=False, soft_wrap=True)

    def _say(self, text: str, style: str | None = None) -> None:
        self.out.print(self.redactor.output(visible(text)), style=style, markup=False)

    def note(self, text: str) -> None:
        if not self.quiet:
            self._say(text)

    def warn(self, text: str) -> None:
        """A setting that is probably not what was meant; on stderr, even with --quiet."""
        line = visible(shorten(text, MAX_VALUE_CHARS), keep_newlines=False)
        self.err.print(f"conformance: warning: {self.redactor.output(line)}", markup=False)

    def error(self, text: str) -> None:
        line = visible(shorten(text, MAX_VALUE_CHARS), keep_newlines=False)
        self.err.print(f"conformance: error: {self.redactor.output(line)}", markup=False)

    def starting(self, target: str, spec: Spec, seed: int) -> None:
        self.note(f"target {target}  spec {spec.title} ({spec.sha256[:12]})  seed {seed}")

    def plan(self, summary: dict[str, Any], seed: int) -> None:
        """The dry-run output: what would be sent."""
        self._say(f"dry run (seed {seed}): nothing sent")
        self._say(json.dumps(summary, indent=2, sort_keys=True, default=str))
        unjudged = summary.get("must_checks_unjudged")
        if isinstance(unjudged, dict):
            checks = ", ".join(unjudged["checks"])
            self._say(
                f"warning: {unjudged['why']} leaves these MUST checks without a case; the run "
                f"would be INCOMPLETE (exit 4): {checks}"
            )
        foreseen = summary.get("verdict_if_conforming")
        if isinstance(foreseen, dict) and foreseen["exit_code"]:
            self._say(
                f"warning: against a conforming gateway the run would end "
                f"{foreseen['headline']} (exit {foreseen['exit_code']})"
            )
            for reason in foreseen["reasons"]:
                self._say(f"  {reason}")

    @contextlib.contextmanager
    def progress(self, in_flight: int = 0) -> Iterator[RunProgress]:
        """The run's progress (`conformance.progress`): a live line and bar on a terminal,
        plain lines in a CI log (`in_flight`: requests sent at once, for the time left),
        nothing with --quiet."""
        shown: NoProgress | LineProgress | BarProgress
        if self.quiet:
            shown = NoProgress()
        elif not self.out.is_terminal:
            shown = LineProgress(self._say, None, in_flight)
        else:
            shown = BarProgress(self.out, None)
        with shown:
            yield shown

    def summary(self, result: RunResult, paths: dict[str, Path]) -> None:
        gate = decide(result)
        verdict = gate.verdict
        line = gate.headline
        report = paths.get("html") or next(iter(paths.values()), None)
        if self.quiet:
            for reason in gate.reasons:
                self._say(gateway_text(reason, MAX_REASON_CHARS))
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
                    self._say(f"  {c.check_id}: {gateway_text(c.failures[0].message)}")
                    if c.failures[0].curl:
                        self._say(f"    {c.failures[0].curl}")
        passed = sum(c.status == Status.PASSED.value for c in result.checks)
        failed = sum(c.status == Status.FAILED.value for c in result.checks)
        stats = result.stats
        self._say(
            f"{passed} checks passed, {failed} failed, {unjudged_counts(result.checks)}; "
            f"{stats.requests} requests, {stats.images} images requested, {stats.duration_s:.1f}s"
        )
        cost_line = estimate_line(result.coverage)
        if cost_line:
            self._say(cost_line)
        if verdict is not Verdict.INCONCLUSIVE:  # else the gate's reason says the same
            for env_line in environment_lines(result.environment_problems):
                self._say(f"environment: {env_line}")
        if result.coverage.get("timing_retries"):
            self._say(timing_retry_line(result.coverage["timing_retries"]))
        if result.coverage.get("timing_rejudged"):
            self._say(rejudged_line(result.coverage["timing_rejudged"]))
        for entry in gate.known:
            self._say(f"known failure (baseline): {entry.check_id}: {gateway_text(entry.reason)}")
        for entry in gate.expired:
            self._say(f"baseline entry expired {entry.expires}: {entry.check_id}", style="red")
        for entry in gate.stale:
            self._say(f"stale baseline entry (no longer failing): {entry.check_id}")
        for reason in gate.reasons:
            self._say(gateway_text(reason, MAX_REASON_CHARS), style="yellow")
        for reason in gate.scope.out_reasons():
            self._say(gateway_text(reason, MAX_REASON_CHARS))
        self._say(line, style=_VERDICT_STYLE.get(verdict))
        for name, path in paths.items():
            self._say(f"{name}: {path}")
