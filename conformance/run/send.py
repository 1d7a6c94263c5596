"""Phase 2, send: every case on the wire, within the run's bounds.

Cases go out concurrently (`--workers`), spaced to `--rate`, each request (cases, retries,
image URL fetches, shrink attempts) counted against `--max-requests`; a 429 is retried after
its Retry-After (bounded), and a failure by time alone once with wider windows. A watcher cuts
everything in flight within `STOP_POLL_S` of a stop (Ctrl-C, SIGTERM), the run deadline
(`--max-duration`, else one derived from the plan: `conformance.timing.run_deadline`) or a halt
(the gateway gave the run no reason to go on); the cases not sent are then said to be, never
judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from conformance.checks.sse import completion_watch
from conformance.client import Client
from conformance.config import RunConfig, Target
from conformance.model import Case, Exchange, FetchResult, provoked_fault
from conformance.model import TransportErrorKind as Kind
from conformance.reading import StreamEnd
from conformance.redaction import Redactor
from conformance.spec import Operation
from conformance.timing import WIDEN, run_deadline, timing_cut
from conformance.unjudged import Outcomes
from conformance.urlpolicy import Admission, FetchPolicy

MAX_429_RETRIES = 2
MAX_RETRY_AFTER_S = 10.0
STOP_POLL_S = 0.1  # how soon a stop or the run deadline cuts what is in flight

Chain = tuple[Case, ...]
"""Cases sent one after another by one worker (most chains hold one case)."""
Arrived = Callable[[Exchange], None]
"""Called on the worker thread that sent the exchange: it must be thread-safe."""


class Budget:
    """Counts requests against the hard cap, and spaces them to the rate limit."""

    def __init__(
        self, cap: int | None, rate: float | None = None, stopping: threading.Event | None = None
    ) -> None:
        self.cap = cap
        self.sent = 0
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._stopping = stopping or threading.Event()
        """Set when the run stops: a pause for the rate limit ends there."""

    def take(self) -> bool:
        with self._lock:
            if self.cap is not None and self.sent >= self.cap:
                return False
            self.sent += 1
            wait_s = max(0.0, self._next - time.monotonic())
            self._next = max(self._next, time.monotonic()) + self._interval
        if wait_s:
            self._stopping.wait(wait_s)
        return True

    def spent(self) -> bool:
        return self.cap is not None and self.sent >= self.cap


class Sender:
    """The run's wire: its client, request budget, clock and stop state. A context manager:
    inside it the client is open and the stop watcher runs."""

    def __init__(self, config: RunConfig, target: Target, op: Operation, redactor: Redactor):
        self.config = config
        self.op = op
        self.redactor = redactor
        self.client = Client(target, op, config.bounds)
        self.stopping = threading.Event()
        """Set once the run stops: what waits on clients of its own (the SDK's probes) is cut."""
        self.budget = Budget(config.max_requests, config.rate, self.stopping)
        self.policy = FetchPolicy(target.base_url, config.allow_private_urls)
        self.started = time.monotonic()
        self.halt_reason = ""
        """Why the run stopped sending on its own (unresponsive gateway, wrong route)."""
        self.incomplete_reason = ""
        self.stop_kind = ""
        """`interrupted`, `deadline` or `halted` once the run stopped early."""
        self.outcomes = Outcomes()
        self.max_duration = config.max_duration
        """The whole-run deadline (`plan_deadline` sets the default)."""
        self.timing_retries: list[dict[str, str]] = []
        self.unsent: list[str] = []
        self.not_fetched: dict[str, str] = {}
        """Image URLs (or redirect hops) the address policy refused: reported, not judged."""
        self._not_a_cut = False
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="conformance-stop", daemon=True)

    def __enter__(self) -> Sender:
        self.client.__enter__()
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._watcher.join(timeout=5)
        self.client.__exit__(*exc)

    def plan_deadline(self, requests: int) -> None:
        """Without --max-duration, the run's deadline derives from the requests planned."""
        if self.max_duration is None:
            bounds, workers = self.config.bounds, self.config.workers
            self.max_duration = round(run_deadline(requests, bounds, workers), 1)

    def restart_clock(self) -> None:
        """`--max-duration` counts from now (a gateway waited for is ready)."""
        self.started = time.monotonic()

    # -- stopping --------------------------------------------------------------------------

    def _watch(self) -> None:
        """Cut every request and image fetch in flight (and refuse new ones) within
        `STOP_POLL_S` of a stop or the run deadline, wherever the run is waiting: in the pool,
        in a check's fetch, in shrinking."""
        while not self._done.wait(STOP_POLL_S):
            if self.should_stop():
                self.stopping.set()
                self.client.abort()
                return

    def should_stop(self) -> bool:
        if self.config.stop.is_set() or self.halt_reason:
            return True
        limit = self.max_duration
        return bool(limit and time.monotonic() - self.started > limit)

    def finish(self) -> None:
        """After the last phase: a stop that came after the sends still cuts the run short."""
        if self.should_stop() and not self.incomplete_reason:
            self._mark_incomplete()

    def halt(self, reason: str, *, cut: bool = True) -> None:
        """Stop sending: the gateway gave the run no reason to go on. `cut=False`: the reason
        is reported on its own (a wrong route), so the run is not marked incomplete."""
        self._not_a_cut = self._not_a_cut or not cut
        if not self.halt_reason:
            self.halt_reason = reason
            self.client.abort()

    def _mark_incomplete(self) -> None:
        if self._not_a_cut:
            return
        if self.halt_reason:
            self.stop_kind = "halted"
            self.incomplete_reason = self.halt_reason
        elif self.config.stop.is_set():
            self.stop_kind = "interrupted"
            self.incomplete_reason = "interrupted: reports hold what was measured before the stop"
        else:
            self.stop_kind = "deadline"
            self.incomplete_reason = (
                f"run deadline of {self.max_duration or 0:g}s reached; what was measured until "
                "then is reported"
            )

    # -- sending ---------------------------------------------------------------------------

    def send_all(
        self, chains: list[Chain], arrived: Arrived, last: Callable[[], None] | None = None
    ) -> None:
        """Send every chain, `--workers` at a time: a worker sends its chain's cases in order,
        each once the one before was answered and judged, and hands each answer to `arrived`
        (judged there, so fetching and judging one answer holds up no other send). `last`
        runs on a worker once every chain was taken (unless the run stopped). The cases the
        budget kept from the wire are listed in `unsent`."""
        workers = max(1, self.config.workers)
        pending: set[Future[list[str]]] = set()
        queue = iter(chains)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conformance") as pool:
            while True:
                while len(pending) < workers and not self.should_stop():
                    chain = next(queue, None)
                    if chain is None:
                        if last is not None:
                            pending.add(pool.submit(_nothing_unsent, last))
                            last = None
                        break
                    pending.add(pool.submit(self._send_chain, chain, arrived))
                if not pending:
                    break
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    unsent = future.result()
                    self.unsent.extend(unsent)
                    self.outcomes.unsent.update(unsent)
                if self.should_stop() and not self.incomplete_reason:
                    self._mark_incomplete()
                if self.should_stop():
                    self.client.abort()  # stopped: what is still in flight is not waited for
        remaining = sum(1 for _ in queue)
        if remaining and not self.incomplete_reason:
            # Stopped before the first case went out (e.g. the probe outlasted the deadline).
            self._mark_incomplete()

    def _send_chain(self, chain: Chain, arrived: Arrived) -> list[str]:
        """Send the chain's cases in order and hand over each answer (not one the run's stop
        cut off, nor one the suite itself failed); returns the IDs of those the request
        budget kept from the wire."""
        for index, case in enumerate(chain):
            if index and self.should_stop():
                return []
            exchange = self._exchange(case)
            if exchange is None:
                return [c.id for c in chain[index:]]
            if exchange.transport_error is Kind.SUITE:
                self.outcomes.suite_error.add(case.id)
            elif exchange.transport_error is not Kind.ABORTED:
                arrived(exchange)
        return []

    def _exchange(self, case: Case) -> Exchange | None:
        """Send one case, honouring Retry-After on 429 with a bounded backoff."""
        exchange: Exchange | None = None
        for attempt in range(MAX_429_RETRIES + 1):
            if not self.budget.take():
                return exchange
            exchange = self._timed(case, self.send_once(case))
            if exchange.status != 429 or attempt == MAX_429_RETRIES or self.should_stop():
                break
            if provoked_fault(case) is not None:
                break  # the suite asked the upstream for this 429: it is the answer to judge
            self.stopping.wait(_retry_after(exchange, attempt))  # a stop or the deadline
        return exchange

    def _timed(self, case: Case, exchange: Exchange) -> Exchange:
        """A failure by time alone (cut at one of the suite's windows) is re-sent once with
        windows `WIDEN` times wider before it counts; the coverage lists each re-send. Not
        while the gateway has never answered (an unresponsive one would cost twice)."""
        if not timing_cut(exchange) or self.should_stop():
            return exchange
        if exchange.status is None and not self.client.latencies.answered():
            return exchange
        if not self.budget.take():
            return exchange
        again = self.client.send(case, self._stream_end(case), widen=WIDEN)
        self.timing_retries.append(
            {
                "case": case.id,
                "first": exchange.transport_detail[:200],
                "re-sent": str(again.transport_error or "answered in time"),
            }
        )
        if timing_cut(again):
            again.transport_detail += f" (also when re-sent with {WIDEN:g}x wider windows)"
        return again

    def send_once(self, case: Case) -> Exchange:
        """One request for `case` (its budget already taken)."""
        return self.client.send(case, self._stream_end(case))

    def _stream_end(self, case: Case) -> StreamEnd | None:
        """When a streamed case has delivered its images (the stream may then close)."""
        if not case.streamed(self.op) or case.expect != "success":
            return None
        return completion_watch(self.op, case.requested_n(self.op))

    # -- image URLs ------------------------------------------------------------------------

    def fetch(self, url: str) -> FetchResult:
        return self.client.fetch(url, admit=self._admit)

    def _admit(self, url: str) -> Admission:
        """Whether a fetch (or one of its redirect hops) may be sent, and where: the address
        policy, then the request budget (every request on the wire counts against
        --max-requests)."""
        admission = self.policy.admission(url)
        if admission.refusal:
            self.not_fetched.setdefault(self.redactor.text(url)[:500], admission.refusal)
            return admission
        if not self.budget.take():
            return Admission(refusal="request budget (--max-requests) spent")
        return admission


def _nothing_unsent(task: Callable[[], None]) -> list[str]:
    task()
    return []


def _retry_after(exchange: Exchange, attempt: int) -> float:
    header = exchange.headers.get("retry-after", "")
    try:
        wait_s = float(header)
    except ValueError:
        wait_s = 0.5 * (2**attempt)
    return min(max(wait_s, 0.0), MAX_RETRY_AFTER_S)
