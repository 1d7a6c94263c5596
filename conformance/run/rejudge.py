"""Re-judge a failure that the suite's own clock may have caused, once, on a re-send.

A check that reads when the client received each byte (e.g. whether a stream was held back)
sees the gateway through the suite's reader: on a loaded machine a reader that is not
scheduled for a while collects every event at once, which looks like a gateway that buffered.
Such a check is marked `timing`; its failure is re-sent once, and the re-send's judgement is
what counts (a gateway that really buffers fails again). Each re-judgement is listed in the
coverage (`timing_rejudged`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from conformance.checks.registry import Check, ExchangeContext, Problem
from conformance.model import Exchange
from conformance.run.send import Sender
from conformance.run.upstream import UpstreamRecords
from conformance.spec import Operation, Spec

Apply = Callable[[Check, ExchangeContext], "list[Problem] | None"]
MAX_LISTED = 50


class TimingRejudge:
    """Re-sends a case whose `timing` check failed and judges that check on the new answer."""

    def __init__(
        self, spec: Spec, op: Operation, sender: Sender, upstream: UpstreamRecords, apply: Apply
    ) -> None:
        self.spec = spec
        self.op = op
        self.sender = sender
        self.upstream = upstream
        self.apply = apply
        self.listed: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def wanted(self, chk: Check, problems: list[Problem] | None) -> bool:
        """A `timing` check failed (not crashed): worth one re-send."""
        return chk.timing and bool(problems) and not all(p.error for p in problems or [])

    def again(
        self, chk: Check, exchange: Exchange, problems: list[Problem]
    ) -> tuple[Exchange, list[Problem] | None]:
        """`chk` judged on a re-send of `exchange`'s case. The first judgement stands when the
        run is stopping, its request budget is spent, or the re-send gives the check nothing
        to judge (a 503, a 429, no stream): only a judgement replaces a judgement. The re-send
        is judged on its own upstream records, not on the first send's as well (a gateway
        that replays the first answer from a cache has no upstream call to show)."""
        if self.sender.should_stop() or not self.sender.budget.take():
            return exchange, problems
        case = exchange.case
        before = self.upstream.view(case)
        resent = self.sender.send_once(case)
        view = self.upstream.view(case)
        if view is not None and before is not None and not view.error:
            view = replace(view, records=view.records[len(before.records) :])
        ctx = ExchangeContext(self.spec, self.op, resent, self.sender.fetch, upstream=view)
        found = self.apply(chk, ctx)
        if found is None:
            outcome = "not judged: the first judgement stands"
        else:
            outcome = found[0].message[:200] if found else "passed"
        with self._lock:
            self.listed.append(
                {
                    "check": chk.id,
                    "case": case.id,
                    "first": problems[0].message[:200],
                    "re-sent": outcome,
                }
            )
        return (exchange, problems) if found is None else (resent, found)
