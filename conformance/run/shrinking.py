"""Failures reduced to a minimal reproducer, within bounds (`conformance.plan.shrink`).

Every failing random case is shrunk; of the planned valid cases, the first failure of each
check (every failure with `--budget deep`). A slow failure (a cut stream, a timeout) is not:
each attempt would be as slow. Each shrink stops after `MAX_SHRINK_S`, and the run's shrink
requests stay within `MAX_SHRINK_REQUESTS` and the budget preset's share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from conformance.checks.registry import Check, ExchangeContext, Problem
from conformance.config import RunConfig
from conformance.model import UPSTREAM, Case, Exchange
from conformance.plan.presets import preset
from conformance.run.send import Sender
from conformance.spec import Operation

SLOW_EXCHANGE_S = 2.0  # failures slower than this are reported as sent, not shrunk
MAX_SHRINK_S = 10.0  # per shrink
MAX_SHRINK_REQUESTS = 1000  # per run, whatever the budget preset allows

Apply = Callable[[Check, ExchangeContext], "list[Problem] | None"]


class Shrinker:
    """Thread-safe: workers shrink their own failures, within the run's shared limits."""

    def __init__(self, config: RunConfig, op: Operation, sender: Sender, apply: Apply) -> None:
        self.config = config
        self.op = op
        self.sender = sender
        self.apply = apply
        chosen = preset(config.budget)
        self.shrink_all = chosen.shrink_all
        self.max_shrink = min(MAX_SHRINK_REQUESTS, chosen.max_shrink_requests)
        self.shrink_requests = 0
        self.shrunk_checks: set[str] = set()
        self._lock = threading.Lock()

    def worth_shrinking(self, chk: Check, exchange: Exchange) -> bool:
        case = exchange.case
        if not self.config.shrink or case.expect != "success" or UPSTREAM in case.tags:
            return False  # a two-sided case is judged with its upstream records, as sent
        with self._lock:
            if exchange.elapsed_s > SLOW_EXCHANGE_S or self.shrink_requests >= self.max_shrink:
                return False
            if "random" in case.tags or self.shrink_all:
                return True
            if chk.id in self.shrunk_checks:
                return False
            self.shrunk_checks.add(chk.id)
            return True

    def _take_request(self) -> bool:
        """One more shrink request, if the run's shrinking and request budgets allow it."""
        with self._lock:
            if self.shrink_requests >= self.max_shrink or not self.sender.budget.take():
                return False
            self.shrink_requests += 1
            return True

    def shrunk(self, chk: Check, exchange: Exchange) -> tuple[Exchange, list[Problem]] | None:
        """Reduce a failing case to a minimal body that still fails `chk` (None: no smaller
        one was found in time)."""
        from conformance.plan.shrink import shrink

        found: dict[str, tuple[Exchange, list[Problem]]] = {}
        deadline = time.monotonic() + MAX_SHRINK_S

        def still_fails(candidate: Case) -> bool:
            if self.sender.should_stop() or time.monotonic() > deadline:
                return False
            if not self._take_request():
                return False
            attempt = self.sender.send_once(candidate)
            ctx = ExchangeContext(self.config.spec, self.op, attempt, self.sender.fetch)
            problems = self.apply(chk, ctx)
            if problems:
                found[candidate.id] = (attempt, problems)
                return True
            return False

        smaller = shrink(exchange.case, still_fails, self.op)
        if smaller.body == exchange.case.body or smaller.id not in found:
            return None
        return found[smaller.id]
