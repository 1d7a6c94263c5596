"""Progress of a long run, phase by phase: plan, send, judge, report.

On a terminal a live line shows the phase, and during the sending a bar with the time left;
in a CI log each phase says when it starts and how long it took, and the sending prints a line
every few seconds (even while nothing answers) or every 10% of the planned requests, with an
estimate of the time left once the first answers are in. `--quiet` shows none of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from rich.console import Console as RichConsole
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PHASES = ("plan", "send", "judge", "report")
PROGRESS_EVERY_S = 5.0
PROGRESS_STEP = 0.1


class RunProgress(Protocol):
    """What a run reports to: `tick` after each judged exchange, `phase` when the next begins."""

    def __call__(self, sent: int, failures: int, environment: int) -> None: ...

    def phase(self, name: str, detail: str = "") -> None: ...

    def expect(self, requests: int | None) -> None: ...


class ProgressLines:
    """The sending as plain lines: every PROGRESS_EVERY_S seconds, or whenever another 10% of
    the planned requests went out, whichever comes first. The time left is estimated from the
    requests answered so far (sent, less the `in_flight` ones still waiting: a slow gateway
    holds a whole wave of them; at least one per judged exchange), and is unknown until some
    are."""

    def __init__(
        self,
        say: Callable[[str], None],
        planned: int | None,
        clock: Callable[[], float] = time.monotonic,
        in_flight: int = 0,
    ) -> None:
        self.say, self.planned, self.clock, self.in_flight = say, planned, clock, in_flight
        self.started = self.last = clock()
        self.step = 0
        self.state = (0, 0, 0)
        self.judged = 0
        self.lock = threading.Lock()

    def tick(self, sent: int, failures: int, environment: int) -> None:
        """One more exchange judged."""
        with self.lock:
            self.judged += 1
            self.state = (sent, failures, environment)
            self._report()

    def heartbeat(self) -> None:
        """The last state again once PROGRESS_EVERY_S passed without a line (a slow gateway)."""
        with self.lock:
            self._report()

    def _report(self) -> None:
        sent, failures, environment = self.state
        now = self.clock()
        step = int(sent / self.planned / PROGRESS_STEP) if self.planned else 0
        if step <= self.step and now - self.last < PROGRESS_EVERY_S:
            return
        self.step, self.last = max(step, self.step), now
        self.say(self.line(sent, failures, environment, now - self.started))

    def line(self, sent: int, failures: int, environment: int, elapsed: float) -> str:
        planned = self.planned
        text = f"progress: {sent}/{planned or '?'} requests"
        if planned:
            text += f" ({min(100, round(100 * sent / planned))}%)"
        text += f", {failures} failures"
        if environment:
            text += f", {environment} environment answers"
        if planned:
            answered = max(self.judged, sent - min(self.in_flight, sent))
            if answered > 0:
                text += f", ETA {max(0.0, elapsed / answered * (planned - sent)):.0f}s"
            elif sent < planned:
                text += ", ETA unknown (no answer yet)"
        return text + f", {elapsed:.0f}s elapsed"


class _Shown:
    """A form of progress as a context manager: `open` on entry, `close` on exit."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(completed=kind is None)

    def open(self) -> None:
        return None

    def close(self, completed: bool) -> None:
        return None


class _Phases:
    """The phase bookkeeping both forms share: which phase, since when."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.current: str | None = None
        self.since = clock()

    def switch(self, name: str | None) -> tuple[str | None, float]:
        """Enter phase `name` (None: the end); the phase left and its duration."""
        now = self.clock()
        left, took = self.current, now - self.since
        self.current, self.since = name, now
        return left, took

    @staticmethod
    def number(name: str) -> str:
        return f"[{PHASES.index(name) + 1}/{len(PHASES)}]" if name in PHASES else "[-]"


class LineProgress(_Shown):
    """Progress for a CI log: a line per phase, the sending's lines, a heartbeat."""

    def __init__(
        self,
        say: Callable[[str], None],
        planned: int | None,
        in_flight: int = 0,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = PROGRESS_EVERY_S,
    ) -> None:
        self.say = say
        self.phases = _Phases(clock)
        self.planned, self.in_flight, self.clock = planned, in_flight, clock
        self.lines: ProgressLines | None = None
        self.stopped = threading.Event()
        self.every_s = every_s
        self.beat = threading.Thread(target=self._beat, name="conformance-progress", daemon=True)

    def open(self) -> None:
        self.beat.start()

    def close(self, completed: bool) -> None:
        self.stopped.set()
        self.beat.join(timeout=1.0)
        left, took = self.phases.switch(None)
        if left and completed:
            self.say(f"{self.phases.number(left)} {left}: done in {took:.1f}s")

    def __call__(self, sent: int, failures: int, environment: int) -> None:
        if self.lines is not None:
            self.lines.tick(sent, failures, environment)

    def expect(self, requests: int | None) -> None:
        """The requests the sending is measured against (known once planned)."""
        self.planned = requests

    def phase(self, name: str, detail: str = "") -> None:
        left, took = self.phases.switch(name)
        if left:
            self.say(f"{self.phases.number(left)} {left}: done in {took:.1f}s")
        self.say(f"{self.phases.number(name)} {name}" + (f": {detail}" if detail else ""))
        self.lines = (
            ProgressLines(self.say, self.planned, self.clock, self.in_flight)
            if name == "send"
            else None
        )

    def _beat(self) -> None:
        while not self.stopped.wait(self.every_s):
            lines = self.lines
            if lines is not None:
                lines.heartbeat()


class BarProgress(_Shown):
    """Progress on a terminal: the phase's name with a spinner, and a bar while sending."""

    def __init__(self, console: RichConsole, planned: int | None) -> None:
        self.console = console
        self.planned = planned
        self.phases = _Phases(time.monotonic)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn(
                "{task.completed}/{task.fields[planned]} requests  {task.fields[failures]} failures"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("starting", total=planned, planned=planned or "?", failures=0)

    def open(self) -> None:
        self.bar.start()

    def close(self, completed: bool) -> None:
        self.bar.stop()

    def __call__(self, sent: int, failures: int, environment: int) -> None:
        self.bar.update(self.task, completed=sent, failures=failures)

    def expect(self, requests: int | None) -> None:
        self.bar.update(self.task, total=requests, planned=requests or "?")

    def phase(self, name: str, detail: str = "") -> None:
        self.phases.switch(name)
        label = f"{self.phases.number(name)} {name}" + (f": {detail}" if detail else "")
        self.bar.update(self.task, description=label)


class NoProgress(_Shown):
    """--quiet: nothing."""

    def __call__(self, sent: int, failures: int, environment: int) -> None:
        return None

    def phase(self, name: str, detail: str = "") -> None:
        return None

    def expect(self, requests: int | None) -> None:
        return None
