"""A run: plan -> client -> checks -> results.

`run(config)` sends every case of the plan (concurrently, rate-limited, within the run's
deadline and request budget), applies every applicable check to each exchange as it arrives,
then the run-scope checks, and returns a `RunResult`. It never raises for what the gateway does;
it raises `TargetUnreachable` when nothing answers at all and `SpecError` for a bad spec.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime

import httpx

from conformance import __version__
from conformance.checks.registry import (
    Check,
    ExchangeContext,
    Problem,
    RunContext,
    UpstreamView,
    catalogue,
)
from conformance.checks.sse import completion_watch
from conformance.client import Client, StreamEnd
from conformance.config import RunConfig, Target
from conformance.errors import TargetUnreachable
from conformance.evidence import failure_record
from conformance.model import (
    ENVIRONMENT_STATUSES,
    UPSTREAM,
    Case,
    Exchange,
    FetchResult,
    provoked_fault,
    upstream_token,
)
from conformance.model import TransportErrorKind as Kind
from conformance.plan import Plan, build_plan
from conformance.plan.upstream import upstream_cases
from conformance.profiles import PROFILES
from conformance.redaction import Redactor
from conformance.results import CheckResult, EnvironmentProblem, RunResult, Stats

MAX_429_RETRIES = 2
MAX_RETRY_AFTER_S = 10.0
RUN_SCOPE_TAG = "parity:"
URL_FORMAT = "url"  # the response_format value whose images arrive as URLs to fetch
SLOW_EXCHANGE_S = 2.0  # failures slower than this are reported as sent, not shrunk
MAX_SHRINK_S = 10.0  # per shrink
MAX_SHRINK_REQUESTS = 200  # per run

Progress = Callable[[int, int, int], None]


def make_plan(config: RunConfig) -> Plan:
    """The plan a run with `config` sends (built once per spec, seed and budget)."""
    key = (config.spec.sha256, config.seed, config.model, config.max_examples, config.max_requests)
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is None:
            kwargs: dict[str, object] = {"seed": config.seed, "model": config.model}
            if config.max_examples is not None:
                kwargs["max_examples"] = config.max_examples
            if config.max_requests is not None:
                kwargs["max_requests"] = config.max_requests
            plan = build_plan(config.spec.operation, **kwargs)  # type: ignore[arg-type]
            _PLANS[key] = plan
        return plan


def dry_run_summary(config: RunConfig) -> dict[str, object]:
    """What a run with `config` would send: the plan's summary, plus the image URLs a
    conforming gateway's answers would make the suite fetch (each one request)."""
    op = config.spec.operation
    plan = make_plan(config)
    fetches = sum(
        case.images_requested(op)
        for case in plan.cases
        if not case.streamed(op) and case.field("response_format", op) == URL_FORMAT
    )
    summary = dict(plan.summary())
    summary["image_url_fetches"] = fetches
    summary["requests_estimate"] = int(str(summary["requests"])) + fetches
    summary["requests_note"] = (
        "cases plus the image URLs of a conforming gateway; re-fetches for the parity check "
        "and the shrinking of failures come on top; --max-requests caps them all"
    )
    return summary


_PLANS: dict[tuple[object, ...], Plan] = {}
_PLANS_LOCK = threading.Lock()


EMBEDDED_CLIENT_KEY = "ck-7f3a9c1e5b2d4a60"
"""The credential the suite presents to the embedded pair (it must not reach the upstream)."""
RECORDS_PATH = "/_upstream/requests"
RECORDS_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def run(config: RunConfig, progress: Progress | None = None) -> RunResult:
    """Run the suite as `config` says and return what it measured."""
    with _target(config) as (base_url, upstream, run_config):
        return _Run(run_config, base_url, progress, upstream).execute()


@contextlib.contextmanager
def _target(config: RunConfig) -> Iterator[tuple[str, str | None, RunConfig]]:
    """The gateway's URL, the upstream whose records are read (or None), and the config.

    Without `base_url`: the reference gateway, in front of the fake upstream (the embedded
    pair, with a client key of its own) unless a fault of another family than `forwarding` is
    switched on (those act on the gateway's own answers: it then draws itself)."""
    if config.base_url:
        yield config.base_url, config.upstream, config
        return
    from dataclasses import replace

    from conformance.targets.faults import resolve_fault
    from conformance.targets.server import running_gateway
    from conformance.targets.upstream import running_upstream

    fault = resolve_fault(config.fault)
    if fault is not None and fault.family != "forwarding" and config.upstream is None:
        with running_gateway(config.spec, fault=fault) as url:
            yield url, None, config
        return
    paired = replace(config, api_key=config.api_key or EMBEDDED_CLIENT_KEY)
    with contextlib.ExitStack() as stack:
        upstream = config.upstream or stack.enter_context(running_upstream(config.spec))
        url = stack.enter_context(running_gateway(config.spec, fault=fault, upstream=upstream))
        yield url, upstream, paired


class _Budget:
    """Counts requests against the hard cap, and spaces them to the rate limit."""

    def __init__(self, cap: int | None, rate: float | None) -> None:
        self.cap = cap
        self.sent = 0
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.cap is not None and self.sent >= self.cap:
                return False
            self.sent += 1
            wait_s = max(0.0, self._next - time.monotonic())
            self._next = max(self._next, time.monotonic()) + self._interval
        if wait_s:
            time.sleep(wait_s)
        return True


class _Run:
    def __init__(
        self,
        config: RunConfig,
        base_url: str,
        progress: Progress | None,
        upstream: str | None = None,
    ) -> None:
        self.config = config
        self.upstream = upstream.rstrip("/") if upstream else None
        self.spec = config.spec
        self.op = config.spec.operation
        profile = config.profile
        self.target = Target(
            base_url=base_url,
            deployment=config.deployment,
            api_version=config.api_version,
            api_key=config.api_key,
            headers=(*profile.header_values(self.upstream), *config.headers),
            model=config.model,
            path=profile.path,
            bearer=profile.auth == "bearer",
            send_api_version=profile.api_version,
        )
        self.max_upstream_calls = max(config.max_upstream_calls, profile.max_upstream_calls)
        self.credential_passes = config.credential_passes or profile.credential_passes
        self.redactor = Redactor(self.target.secrets())
        self.progress = progress
        self.checks = catalogue()
        self.results = {
            c.id: CheckResult(
                check_id=c.id,
                level=c.level.value,
                statement=c.statement,
                pointer=c.spec_pointer(self.op),
                family=c.family,
                rationale=c.rationale,
            )
            for c in self.checks
        }
        self.budget = _Budget(config.max_requests, config.rate)
        self.started = time.monotonic()
        self.environment: list[EnvironmentProblem] = []
        self.retained: list[Exchange] = []
        self.images = 0
        self.failures = 0
        self.incomplete_reason = ""
        self.unsent: list[str] = []
        self.shrunk_checks: set[str] = set()
        self.shrink_requests = 0

    def execute(self) -> RunResult:
        plan = make_plan(self.config)
        self.started = time.monotonic()  # --max-duration bounds the sending, not the planning
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        two_sided: list[Case] = []
        if self.upstream:
            nonce = uuid.uuid4().hex[:8]
            two_sided = upstream_cases(self.op, model=self.config.model, nonce=nonce)
        cases = [*plan.cases, *two_sided]
        with (
            Client(self.target, self.op, self.config.bounds) as client,
            httpx.Client(timeout=RECORDS_TIMEOUT, trust_env=False) as records,
        ):
            self.client = client
            self.records = records
            self._probe()
            self._send_all(plan.cases)
            # One at a time, after the rest: their timing (a relayed stream) is then the
            # gateway's, not the load of the suite's own concurrent requests.
            self._send_all(two_sided, workers=1)
            self._run_scope_checks()
        for result in self.results.values():
            result.settle()
        coverage = dict(plan.coverage)
        if plan.cut:
            coverage.setdefault("cut", list(plan.cut))
        if self.unsent:
            coverage["unsent"] = {
                "reason": "request budget (--max-requests) spent by url fetches and shrinking",
                "cases": self.unsent,
            }
        return RunResult(
            suite_version=__version__,
            target=self.redactor.text(self.target.base_url) + self._named(),
            spec_title=self.spec.title,
            spec_source=self.spec.source,
            spec_sha256=self.spec.sha256,
            operation=f"{self.op.method.upper()} {self.op.path}",
            seed=self.config.seed,
            started_at=started_at,
            stats=Stats(
                requests=self.budget.sent,
                images=self.images,
                cases=len(cases),
                duration_s=round(time.monotonic() - self.started, 3),
            ),
            checks=list(self.results.values()),
            environment_problems=self.environment,
            coverage=coverage,
            incomplete=bool(self.incomplete_reason),
            incomplete_reason=self.incomplete_reason,
            strict=self.config.strict,
        )

    def _named(self) -> str:
        """The profile and model preset, as the report names them beside the target."""
        named = self.config.profile.name != PROFILES["bifrost"].name
        parts = [f"profile {self.config.profile.name}"] if named else []
        if self.config.model_preset:
            parts.append(f"model preset {self.config.model_preset}")
        return f" ({', '.join(parts)})" if parts else ""

    # -- sending -------------------------------------------------------------------------

    def _probe(self) -> None:
        """Fail fast (exit 3) when nothing listens at the target: a TCP connect within the
        connect timeout, nothing sent (a silent gateway is then reported by the cases)."""
        url = httpx.URL(self.target.base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((url.host, port), self.config.bounds.connect_timeout):
                pass
        except OSError as exc:
            raise TargetUnreachable(
                f"cannot reach {self.redactor.text(self.target.base_url)}: "
                f"{exc.strerror or exc.__class__.__name__}"
            ) from exc

    def _send_all(self, cases: list[Case], workers: int | None = None) -> None:
        workers = max(1, workers or self.config.workers)
        pending: dict[Future[Exchange | None], Case] = {}
        queue = iter(cases)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conformance") as pool:
            while True:
                while len(pending) < workers and not self._should_stop():
                    case = next(queue, None)
                    if case is None:
                        break
                    pending[pool.submit(self._exchange, case)] = case
                if not pending:
                    break
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    case = pending.pop(future)
                    exchange = future.result()
                    if exchange is None:
                        self.unsent.append(case.id)
                    elif exchange.transport_error is not Kind.ABORTED:
                        self._judge(exchange)
                if self._should_stop() and not self.incomplete_reason:
                    self._mark_incomplete()
                if self.config.stop.is_set():
                    self.client.abort()  # interrupted: what is still in flight is not waited for
        remaining = sum(1 for _ in queue)
        if remaining and not self.incomplete_reason:
            # Stopped before the first case went out (e.g. the probe outlasted the deadline).
            self._mark_incomplete()

    def _should_stop(self) -> bool:
        if self.config.stop.is_set():
            return True
        limit = self.config.max_duration
        return bool(limit and time.monotonic() - self.started > limit)

    def _mark_incomplete(self) -> None:
        if self.config.stop.is_set():
            self.incomplete_reason = "interrupted: reports hold what was measured before the stop"
        else:
            self.incomplete_reason = (
                f"run deadline of {self.config.max_duration:g}s reached; remaining cases not sent"
            )

    def _exchange(self, case: Case) -> Exchange | None:
        """Send one case, honouring Retry-After on 429 with a bounded backoff."""
        exchange: Exchange | None = None
        for attempt in range(MAX_429_RETRIES + 1):
            if not self.budget.take():
                return exchange
            exchange = self.client.send(case, self._stream_end(case))
            if exchange.status != 429 or attempt == MAX_429_RETRIES or self._should_stop():
                break
            if provoked_fault(case) is not None:
                break  # the suite asked the upstream for this 429: it is the answer to judge
            self.config.stop.wait(_retry_after(exchange, attempt))
        return exchange

    def _stream_end(self, case: Case) -> StreamEnd | None:
        """When a streamed case has delivered its images (the stream may then close)."""
        if not case.streamed(self.op) or case.expect != "success":
            return None
        return completion_watch(self.op, case.requested_n(self.op))

    def _fetch(self, url: str) -> FetchResult:
        if not self.budget.take():
            return FetchResult(
                error=Kind.NOT_FETCHED, detail="request budget (--max-requests) spent"
            )
        return self.client.fetch(url)

    # -- judging -------------------------------------------------------------------------

    def _judge(self, exchange: Exchange) -> None:
        case = exchange.case
        self.images += case.images_requested(self.op)
        provoked = provoked_fault(case) is not None
        if exchange.status in ENVIRONMENT_STATUSES and not provoked:
            self.environment.append(
                EnvironmentProblem(
                    case_id=case.id,
                    status=exchange.status or 0,
                    message=self.redactor.text(exchange.body[:300].decode("utf-8", "replace")),
                )
            )
            if self.progress:
                self.progress(self.budget.sent, self.failures, len(self.environment))
            return  # credentials or quota describe the environment: no check judges them
        ctx = ExchangeContext(
            self.spec, self.op, exchange, self._fetch, upstream=self._upstream_view(case)
        )
        for chk in self.checks:
            if chk.scope != "exchange":
                continue
            problems = self._apply(chk, ctx)
            evidence = exchange
            if problems and self._worth_shrinking(chk, exchange):
                evidence, problems = self._shrunk(chk, exchange) or (exchange, problems)
            self._record(chk, evidence, problems)
        if any(tag.startswith(RUN_SCOPE_TAG) for tag in case.tags):
            self.retained.append(exchange)
        if self.progress:
            self.progress(self.budget.sent, self.failures, len(self.environment))

    def _worth_shrinking(self, chk: Check, exchange: Exchange) -> bool:
        """Every failing random case is shrunk; of the planned valid cases, the first failure of
        each check, so each failing check shows at least one minimal reproducer. A slow failure
        (a cut stream, a timeout) is not: each attempt would be as slow, and the run's shrinking
        stays within `MAX_SHRINK_REQUESTS`."""
        case = exchange.case
        if not self.config.shrink or case.expect != "success" or UPSTREAM in case.tags:
            return False  # a two-sided case is judged with its upstream records, as sent
        if exchange.elapsed_s > SLOW_EXCHANGE_S or self.shrink_requests >= MAX_SHRINK_REQUESTS:
            return False
        if "random" in case.tags:
            return True
        if chk.id in self.shrunk_checks:
            return False
        self.shrunk_checks.add(chk.id)
        return True

    def _upstream_view(self, case: Case) -> UpstreamView | None:
        """The upstream's records of a two-sided case (by its token), read once it was
        answered; None for other cases or when the run has no upstream to read."""
        token = upstream_token(case)
        if self.upstream is None or token is None:
            return None
        calls, passes = self.max_upstream_calls, self.credential_passes
        try:
            response = self.records.get(self.upstream + RECORDS_PATH, params={"contains": token})
            found = response.json()["requests"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            return UpstreamView([], calls, f"{exc.__class__.__name__}: {exc}", passes)
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            return UpstreamView(
                [], calls, f"{RECORDS_PATH} answered {response.status_code}", passes
            )
        return UpstreamView(sorted(found, key=_seq), calls, None, passes)

    def _apply(self, chk: Check, ctx: ExchangeContext) -> list[Problem] | None:
        try:
            outcome: list[Problem] | None = chk.func(ctx)
            return outcome
        except Exception as exc:  # a crashing check is an error of that check, not of the run
            return [Problem(f"check crashed: {exc.__class__.__name__}: {exc}", error=True)]

    def _record(self, chk: Check, exchange: Exchange, problems: list[Problem] | None) -> None:
        result = self.results[chk.id]
        if problems is None:
            return
        if not problems:
            result.record_pass()
            return
        self.failures += 1
        failure = failure_record(chk, exchange, problems, self.redactor)
        result.record_failure(failure, error=all(p.error for p in problems))

    def _shrunk(self, chk: Check, exchange: Exchange) -> tuple[Exchange, list[Problem]] | None:
        """Reduce a failing random case to a minimal body that still fails `chk`."""
        from conformance.plan import shrink

        found: dict[str, tuple[Exchange, list[Problem]]] = {}

        deadline = time.monotonic() + MAX_SHRINK_S

        def still_fails(candidate: Case) -> bool:
            if self._should_stop() or time.monotonic() > deadline:
                return False
            if self.shrink_requests >= MAX_SHRINK_REQUESTS or not self.budget.take():
                return False
            self.shrink_requests += 1
            attempt = self.client.send(candidate, self._stream_end(candidate))
            ctx = ExchangeContext(self.spec, self.op, attempt, self._fetch)
            problems = self._apply(chk, ctx)
            if problems:
                found[candidate.id] = (attempt, problems)
                return True
            return False

        smaller = shrink(exchange.case, still_fails, self.op)
        if smaller.body == exchange.case.body or smaller.id not in found:
            return None
        return found[smaller.id]

    def _run_scope_checks(self) -> None:
        ctx = RunContext(self.spec, self.op, self.retained, self._fetch)
        for chk in self.checks:
            if chk.scope != "run":
                continue
            try:
                outcomes = chk.func(ctx)
            except Exception as exc:
                result = self.results[chk.id]
                crash = [Problem(f"check crashed: {exc.__class__.__name__}: {exc}", error=True)]
                if self.retained:
                    result.record_failure(
                        failure_record(chk, self.retained[0], crash, self.redactor), error=True
                    )
                continue
            for exchange, problems in outcomes or []:
                self._record(chk, exchange, problems)


def _seq(record: dict[str, object]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else 0


def _retry_after(exchange: Exchange, attempt: int) -> float:
    header = exchange.headers.get("retry-after", "")
    try:
        wait_s = float(header)
    except ValueError:
        wait_s = 0.5 * (2**attempt)
    return min(max(wait_s, 0.0), MAX_RETRY_AFTER_S)
