"""One thread that runs every request's deadline, instead of a timer thread per deadline.

The client's watchdog arms a deadline when a request starts and moves it when the answer
begins; with `threading.Timer` that started two threads per request, a measurable part of the
client's CPU. Here deadlines wait in a heap, and one daemon thread calls each that comes due
and was not cancelled.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadlines:
    """`call_at(when, fn)` calls `fn` on the deadline thread once `time.monotonic()` reaches
    `when`, unless `cancel(token)` came first. `fn` must be quick and must not raise."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._live: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def call_at(self, when: float, fn: Callable[[], None]) -> int:
        with self._cond:
            token = next(self._tokens)
            self._live.add(token)
            heapq.heappush(self._heap, (when, token, fn))
            if self._thread is None or not self._thread.is_alive():  # first use, or after fork
                self._thread = threading.Thread(
                    target=self._loop, name="conformance-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._cond:
            self._live.discard(token)

    def _due(self) -> Callable[[], None]:
        """Wait for the next live deadline to come due, and take it off the heap."""
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # cancelled: dropped when it reaches the top
                if not self._heap:
                    self._cond.wait()
                    continue
                when, token, fn = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(token)
                return fn

    def _loop(self) -> None:
        while True:
            fn = self._due()
            try:
                fn()
            except Exception:  # noqa: BLE001 - one deadline's failure must not stop the others
                continue


DEADLINES = Deadlines()
"""The process's deadline thread, shared by every client."""
