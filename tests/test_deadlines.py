"""The deadline thread: due deadlines run once, in order; cancelled ones never run."""

from __future__ import annotations

import threading
import time

from conformance.deadlines import Deadlines


def test_due_deadlines_run_in_order_and_cancelled_ones_never() -> None:
    deadlines = Deadlines()
    ran: list[str] = []
    done = threading.Event()
    now = time.monotonic()
    deadlines.call_at(now + 0.10, lambda: ran.append("late"))
    gone = deadlines.call_at(now + 0.05, lambda: ran.append("cancelled"))
    deadlines.call_at(now - 1.0, lambda: ran.append("overdue"))
    deadlines.call_at(now + 0.15, done.set)
    deadlines.cancel(gone)
    assert done.wait(5.0)
    assert ran == ["overdue", "late"]


def test_a_deadline_that_raises_does_not_stop_the_others() -> None:
    deadlines = Deadlines()
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("boom")

    deadlines.call_at(time.monotonic(), broken)
    deadlines.call_at(time.monotonic() + 0.01, done.set)
    assert done.wait(5.0)
