"""Between send and judge: is the gateway worth judging yet, and is it still answering?

Until one request got an answer that shows the route exists, answers are held: `ROUTE_PREFLIGHT`
requests all answered 404/405 (or failing TLS) stop the run, with the URL tried and the likely
mistakes, and nothing is judged against a wrong route. `max_timeouts` requests in a row without
a status line in time stop it too: the rest of the plan would each cost a --timeout.
"""

from __future__ import annotations

import threading

from conformance.config import RunConfig, Target
from conformance.model import Exchange
from conformance.model import TransportErrorKind as Kind
from conformance.redaction import Redactor
from conformance.results import EnvironmentProblem
from conformance.run.judge import Judge
from conformance.run.send import Sender
from conformance.spec import Operation

ROUTE_PREFLIGHT = 3  # requests answered 404/405 (or failing TLS) before the run stops
ROUTE_MISS_STATUSES = frozenset({404, 405})
TLS_FAILED = "TLS handshake failed"


class Arrivals:
    """Takes each answer from the sender and hands it to the judge, or holds or halts.
    Thread-safe: each worker hands over its own answers."""

    def __init__(
        self,
        config: RunConfig,
        target: Target,
        op: Operation,
        redactor: Redactor,
        sender: Sender,
        judge: Judge,
    ) -> None:
        self.target = target
        self.op = op
        self.redactor = redactor
        self.sender = sender
        self.judge = judge
        self.max_timeouts = config.max_timeouts or max(1, config.workers)
        self.timeouts_in_a_row = 0
        self.route_checked = False
        self.route_misses = 0
        self.held: list[Exchange] = []
        self._lock = threading.Lock()

    def arrived(self, exchange: Exchange) -> None:
        """Judge an exchange (on the calling worker's thread), after the route preflight."""
        with self._lock:
            self._count_timeouts(exchange)
            if self.route_checked:
                ready = [exchange]
            else:
                miss = _route_miss(exchange)
                # Any case counts: a refused body (400) shows the route exists as well as an
                # image does; 404/405 on every one of the first few does not.
                if exchange.status is not None or miss:
                    if miss:
                        self.route_misses += 1
                    else:
                        self.route_checked = True
                held, self.held = self.held, []
                if self.route_checked:
                    ready = [*held, exchange]
                elif self.route_misses >= ROUTE_PREFLIGHT:
                    self._route_failed([*held, exchange])
                    return
                else:
                    self.held = [*held, exchange]
                    return
        for each in ready:
            self.judge.judge(each)

    def release_held(self) -> None:
        with self._lock:
            held, self.held = self.held, []
        for exchange in held:
            self.judge.judge(exchange)

    def _route_failed(self, held: list[Exchange]) -> None:
        for exchange in held:
            if _route_miss(exchange):
                self.judge.environment_problem(
                    EnvironmentProblem(exchange.case.id, exchange.status or 0, self._miss(exchange))
                )
            else:
                self.judge.judge(exchange)
        # A wrong route is reported as such (nothing judged), not as a cut run.
        self.sender.halt("the route preflight failed", cut=False)

    def _miss(self, exchange: Exchange) -> str:
        url = self.redactor.text(exchange.request.url)
        if exchange.status is None:
            return (
                f"{TLS_FAILED} with {url} ({self.redactor.text(exchange.transport_detail)}); "
                "if the gateway serves plain HTTP, use an http:// --base-url"
            )
        return (
            f"{exchange.request.method} {url} answered {exchange.status} to every valid "
            "request tried; likely mistakes: a --base-url that ends in /openai (the route "
            f"{self.op.path} already starts with it), a wrong path prefix, or an unknown "
            f"--deployment ({self.target.deployment!r})"
        )

    def _count_timeouts(self, exchange: Exchange) -> None:
        error = exchange.transport_error
        silent = exchange.status is None and (
            error in (Kind.TIMEOUT, Kind.DEADLINE)
            or (error is Kind.CONNECT and exchange.transport_detail.startswith("connect timeout"))
        )
        self.timeouts_in_a_row = self.timeouts_in_a_row + 1 if silent else 0
        if self.timeouts_in_a_row >= self.max_timeouts:
            self.sender.halt(
                f"gateway unresponsive: {self.timeouts_in_a_row} requests in a row got no "
                "answer in time; remaining cases not sent"
            )


def _route_miss(exchange: Exchange) -> bool:
    """An answer that says the route is wrong, not the gateway: 404/405, or TLS refused."""
    if exchange.status in ROUTE_MISS_STATUSES:
        return True
    return exchange.transport_error is Kind.CONNECT and exchange.transport_detail.startswith(
        TLS_FAILED
    )
