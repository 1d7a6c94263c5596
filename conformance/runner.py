"""A run: plan -> client -> checks -> results.

`run(config)` sends every case of the plan (concurrently, rate-limited, within the run's
deadline and request budget), applies every applicable check to each exchange as it arrives,
then the run-scope checks, and returns a `RunResult`. It never raises for what the gateway does;
it raises `TargetUnreachable` when nothing answers at all and `SpecError` for a bad spec.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from conformance import __version__
from conformance.checks.registry import (
    Check,
    ExchangeContext,
    Problem,
    RunContext,
    SdkOutcome,
    UpstreamView,
    catalogue,
)
from conformance.checks.sse import completion_watch
from conformance.client import Client, StreamEnd
from conformance.config import RunConfig, Target, tls_verify
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
from conformance.plan.budget import within_cap
from conformance.plan.coverage import plan_coverage
from conformance.plan.presets import preset
from conformance.plan.prices import estimate, load_price_table
from conformance.plan.upstream import RECOVERED_FAULTS, upstream_cases
from conformance.profiles import PROFILES
from conformance.redaction import Redactor
from conformance.results import (
    EMBEDDED_TARGET,
    CheckResult,
    EnvironmentProblem,
    RunResult,
    Stats,
)
from conformance.select import in_shard, judgeable, select_checks
from conformance.urlpolicy import Admission, FetchPolicy
from conformance.wait import wait_for_gateway

MAX_429_RETRIES = 2
MAX_RETRY_AFTER_S = 10.0
RUN_SCOPE_TAG = "parity:"
URL_FORMAT = "url"  # the response_format value whose images arrive as URLs to fetch
SLOW_EXCHANGE_S = 2.0  # failures slower than this are reported as sent, not shrunk
MAX_SHRINK_S = 10.0  # per shrink
MAX_SHRINK_REQUESTS = 1000  # per run, whatever the budget preset allows
MAX_STORED_FAILURES = 50  # per check: the rest are counted, not stored (reports stay small)
ROUTE_PREFLIGHT = 3  # requests answered 404/405 (or failing TLS) before the run stops
ROUTE_MISS_STATUSES = frozenset({404, 405})
STOP_POLL_S = 0.1  # how soon a stop or the run deadline cuts what is in flight
TLS_FAILED = "TLS handshake failed"

Progress = Callable[[int, int, int], None]


def make_plan(config: RunConfig) -> Plan:
    """The plan a run with `config` sends: the spec's plan for its seed and budget, limited to
    the cases the selected checks can judge and to the run's shard (`conformance.select`)."""
    return _limited(_full_plan(config), config)


def selected_checks(config: RunConfig) -> list[Check]:
    """The checks a run with `config` judges (`--checks`, `--exclude-checks`)."""
    return select_checks(catalogue(), config.checks, config.exclude_checks)


def _limited(plan: Plan, config: RunConfig) -> Plan:
    if not (config.checks or config.exclude_checks or config.shard):
        return plan
    op = config.spec.operation
    cases, coverage = plan.cases, dict(plan.coverage)
    if config.checks or config.exclude_checks:
        coverage["selection"] = {
            "checks": [c.id for c in selected_checks(config)],
            **coverage.get("selection", {}),
            "note": "only the cases the selected checks can judge are planned (and then "
            "capped by --max-requests)",
        }
    if config.shard:
        part = in_shard(cases, config.shard)
        whole = {k: v for k, v in coverage.items() if k not in ("cut", "plan", "selection")}
        coverage.update(plan_coverage(op, part))
        coverage["shard"] = {
            "index": config.shard.index,
            "count": config.shard.count,
            "cases": len(part),
            "plan_cases": len(cases),
            "plan_coverage": whole,
        }
        cases = part
    return dataclasses.replace(plan, cases=cases, coverage=coverage)


def _full_plan(config: RunConfig) -> Plan:
    key = (
        config.spec.sha256,
        config.seed,
        config.model,
        config.max_examples,
        config.max_requests,
        config.budget,
        id(config.price_table),
        config.checks,
        config.exclude_checks,
    )
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is None:
            kwargs: dict[str, object] = {
                "seed": config.seed,
                "model": config.model,
                "budget_name": config.budget,
                "prices": config.price_table,
            }
            if config.max_examples is not None:
                kwargs["max_examples"] = config.max_examples
            if config.max_requests is not None:
                kwargs["max_requests"] = config.max_requests
            if config.checks or config.exclude_checks:
                checks = selected_checks(config)
                op = config.spec.operation
                kwargs["keep"] = lambda case: bool(judgeable([case], checks, op))
            plan = build_plan(config.spec.operation, **kwargs)  # type: ignore[arg-type]
            _PLANS[key] = plan
        return plan


def dry_run_summary(config: RunConfig) -> dict[str, object]:
    """What a run with `config` would send: the plan's summary, plus the two-sided cases (when
    an upstream is watched), the official SDK's probes and the image URLs a conforming
    gateway's answers would make the suite fetch (each one request). `images_requested` and
    the cost count what a paid provider behind the gateway would generate: the plan's images
    and the SDK's; the two-sided cases' images come from the fake upstream."""
    op = config.spec.operation
    plan = make_plan(config)
    two_sided = in_shard(upstream_cases(op, model=config.model, nonce="dry-run"), config.shard)
    if not _watches_upstream(config):
        two_sided = []
    sdk = _sdk_cases(config)

    fetchers = [c for c in selected_checks(config) if c.fetches]

    def fetched(case: Case) -> int:
        """The image URLs of `case`'s answer the judging checks GET: once for the checks of
        one exchange (they share a cache), again for each run-scope check (the parity check
        compares the sizes of its own fetches). An answer the upstream was asked to fail
        has no image; the SDK's probes are judged by the SDK alone."""
        if case.streamed(op) or case.field("response_format", op) != URL_FORMAT:
            return 0
        if provoked_fault(case) not in (None, *RECOVERED_FAULTS) or case in sdk:
            return 0
        judging = [check for check in fetchers if check.applies(case, op)]
        rounds = any(c.scope != "run" for c in judging) + sum(c.scope == "run" for c in judging)
        return case.images_requested(op) * rounds

    # A request cap stops the run mid-plan: only what gets on the wire is counted and priced.
    wire = {
        id(c)
        for c in within_cap(
            [*plan.cases, *two_sided, *sdk], lambda c: 1 + fetched(c), config.max_requests
        )
    }
    planned = [c for c in plan.cases if id(c) in wire]
    two_sided, sdk = [c for c in two_sided if id(c) in wire], [c for c in sdk if id(c) in wire]
    sent = [*planned, *two_sided, *sdk]
    fetches = sum(fetched(case) for case in sent)
    summary = dict(plan.summary())
    if len(planned) < len(plan.cases):
        summary["not_reached_by_max_requests"] = len(plan.cases) - len(planned)
    paid = [*planned, *sdk]
    summary["images_requested"] = sum(case.images_requested(op) for case in paid)
    summary["requests_by_source"] = {
        "plan": len(planned),
        "two_sided": len(two_sided),
        "sdk_probe": len(sdk),
        "image_url_fetches": fetches,
    }
    summary["images_by_source"] = {
        "plan": sum(case.images_requested(op) for case in planned),
        "sdk_probe": sum(case.images_requested(op) for case in sdk),
        "two_sided_at_fake_upstream": sum(case.images_requested(op) for case in two_sided),
    }
    summary["cost_estimate"] = estimate(
        paid, op, config.model, config.price_table or load_price_table()
    )
    if config.now_refused:
        summary["now_refused_by_narrowing"] = list(config.now_refused)
    summary["image_url_fetches"] = fetches
    summary["requests_estimate"] = min(
        len(sent) + fetches, config.max_requests or len(sent) + fetches
    )
    summary["requests_note"] = (
        "cases, two-sided cases, the SDK's probes and the image URLs of a conforming gateway "
        "(the parity check fetches its own); retries and the shrinking of failures come on "
        "top; --max-requests caps them all"
    )
    return summary


def _watches_upstream(config: RunConfig) -> bool:
    """Whether a run with `config` reads an upstream's records (and so sends the two-sided
    cases): one given with --upstream, or the embedded pair (see `_target`)."""
    if config.upstream is not None:
        return True
    if config.base_url:
        return False
    from conformance.targets.faults import resolve_fault

    fault = resolve_fault(config.fault)
    return fault is None or fault.family == "forwarding"


def _sdk_cases(config: RunConfig) -> list[Case]:
    """The official SDK's probes a run with `config` would send (if the gateway answers)."""
    from conformance.sdk_probe import probe_cases, sdk_installed

    if not sdk_installed() or (config.shard is not None and config.shard.index != 1):
        return []
    validator = config.spec.operation.request_validator()
    names = preset(config.budget).sdk_probes
    cases = probe_cases(config.deployment, names)
    return [c for c in cases if isinstance(c.body, dict) and validator.is_valid(c.body)]


_PLANS: dict[tuple[object, ...], Plan] = {}
_PLANS_LOCK = threading.Lock()


EMBEDDED_CLIENT_KEY = "ck-7f3a9c1e5b2d4a60"
"""The credential the suite presents to the embedded pair (it must not reach the upstream)."""
RECORDS_PATH = "/_upstream/requests"
RECORDS_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def run(
    config: RunConfig, progress: Progress | None = None, cases: list[Case] | None = None
) -> RunResult:
    """Run the suite as `config` says and return what it measured. `cases` replaces the plan
    (`conformance replay` sends the saved failing requests)."""
    with _target(config) as (base_url, upstream, run_config):
        return _Run(run_config, base_url, progress, upstream, cases).execute()


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
    if not _watches_upstream(config):
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
        cases: list[Case] | None = None,
    ) -> None:
        self.config = config
        self.upstream = upstream.rstrip("/") if upstream else None
        self.given_cases = cases
        self.spec = config.spec
        self.op = config.spec.operation
        profile = config.profile
        self.target = Target(
            base_url=base_url,
            deployment=config.deployment,
            api_version=config.api_version,
            api_key=config.api_key,
            headers=config.headers,
            profile_headers=profile.header_values(self.upstream),
            model=config.model,
            ca_bundle=config.ca_bundle,
            path=profile.path,
            bearer=profile.auth == "bearer",
            send_api_version=profile.api_version,
        )
        self.max_upstream_calls = max(config.max_upstream_calls, profile.max_upstream_calls)
        self.credential_passes = config.credential_passes or profile.credential_passes
        self.redactor = Redactor(self.target.secrets())
        self.progress = progress
        self.checks = selected_checks(config)
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
        self.policy = FetchPolicy(base_url, config.allow_private_urls)
        self.max_timeouts = config.max_timeouts or max(1, config.workers)
        self.timeouts_in_a_row = 0
        self.halt_reason = ""
        """Why the run stopped sending on its own (unresponsive gateway, wrong route)."""
        self.route_checked = False
        self.held: list[Exchange] = []
        self.route_misses = 0
        self.not_fetched: dict[str, str] = {}
        """Image URLs (or redirect hops) the address policy refused: reported, not judged."""
        self.sdk: list[SdkOutcome] | None = None
        self.sdk_note = ""
        self.answered_2xx = False
        chosen = preset(config.budget)
        self.shrink_all = chosen.shrink_all
        self.max_shrink = min(MAX_SHRINK_REQUESTS, chosen.max_shrink_requests)

    def execute(self) -> RunResult:
        if self.given_cases is None:
            plan = make_plan(self.config)
        else:
            plan = Plan(op=self.op, cases=self.given_cases, coverage={}, seed=self.config.seed)
        self.started = time.monotonic()  # --max-duration bounds the sending, not the planning
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        two_sided: list[Case] = []
        if self.upstream and self.given_cases is None:  # a replay sends only its cases
            nonce = uuid.uuid4().hex[:8]
            # A shard sends its part of these too, so merged shards count each case once.
            two_sided = in_shard(
                upstream_cases(self.op, model=self.config.model, nonce=nonce), self.config.shard
            )
        cases = [*plan.cases, *two_sided]
        with (
            Client(self.target, self.op, self.config.bounds) as client,
            self._cutter(client),
            httpx.Client(timeout=RECORDS_TIMEOUT, trust_env=False) as records,
        ):
            self.client = client
            self.records = records
            self._probe()
            self._send_all(plan.cases)
            self._release_held()
            # One at a time, after the rest: their timing (a relayed stream) is then the
            # gateway's, not the load of the suite's own concurrent requests.
            self._send_all(two_sided, workers=1)
            self._probe_sdk()
            phase = getattr(self.progress, "phase", None)
            if phase is not None:
                phase("judge", "checks of the whole run")
            self._run_scope_checks()
        for result in self.results.values():
            result.settle()
        coverage = dict(plan.coverage)
        if plan.cut:
            coverage.setdefault("cut", list(plan.cut))
        if self.not_fetched:
            coverage["not_fetched"] = dict(list(self.not_fetched.items())[:50])
        if self.sdk_note:
            coverage["sdk"] = self.sdk_note
        if self.config.base_url is None:
            coverage[EMBEDDED_TARGET] = {"fault": self.config.fault}
        if self.config.now_refused:
            coverage["now_refused_by_narrowing"] = list(self.config.now_refused)
        probes = [outcome.exchange.case for outcome in self.sdk or []]
        unsent = set(self.unsent)
        sent = [c for c in plan.cases if c.id not in unsent]
        table = self.config.price_table or load_price_table()
        coverage["cost_estimate"] = {
            **estimate([*sent, *probes], self.op, self.config.model, table),
            "note": "the planned cases and the SDK's probes at a paid provider's list prices; "
            "shrinking attempts and retries come on top",
        }
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
        connect timeout, nothing sent (a silent gateway is then reported by the cases).
        With `--wait-for`, first wait for the gateway to answer on the route."""
        if self.config.wait_for:
            route = self.target.base_url.rstrip("/") + self.op.path.replace(
                "{deployment-id}", quote(self.target.deployment, safe="")
            )
            try:
                wait_for_gateway(
                    route,
                    self.config.wait_for,
                    connect_timeout=self.config.bounds.connect_timeout,
                    stop=self.config.stop,
                    verify=tls_verify(self.target.ca_bundle),
                )
            except TargetUnreachable as exc:
                raise TargetUnreachable(self.redactor.text(str(exc))) from exc
            self.started = time.monotonic()  # --max-duration counts from a ready gateway
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
                        self._arrived(exchange)
                if self._should_stop() and not self.incomplete_reason:
                    self._mark_incomplete()
                if self._should_stop():
                    self.client.abort()  # stopped: what is still in flight is not waited for
        remaining = sum(1 for _ in queue)
        if remaining and not self.incomplete_reason:
            # Stopped before the first case went out (e.g. the probe outlasted the deadline).
            self._mark_incomplete()

    def _should_stop(self) -> bool:
        if self.config.stop.is_set() or self.halt_reason:
            return True
        limit = self.config.max_duration
        return bool(limit and time.monotonic() - self.started > limit)

    @contextlib.contextmanager
    def _cutter(self, client: Client) -> Iterator[None]:
        """A watcher that cuts every request and image fetch in flight (and refuses new ones)
        within `STOP_POLL_S` of a stop (Ctrl-C, SIGTERM) or the run deadline, wherever the
        run is waiting: in the pool, in a check's fetch, in shrinking."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(STOP_POLL_S):
                if self._should_stop():
                    client.abort()
                    return

        watcher = threading.Thread(target=watch, name="conformance-stop", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join(timeout=5)

    def _halt(self, reason: str) -> None:
        """Stop sending: the gateway gave the run no reason to go on."""
        if not self.halt_reason:
            self.halt_reason = reason
            self.client.abort()

    def _mark_incomplete(self) -> None:
        if self.route_misses >= ROUTE_PREFLIGHT:
            return  # a wrong route is reported as such (nothing judged), not as a cut run
        if self.halt_reason:
            self.incomplete_reason = self.halt_reason
        elif self.config.stop.is_set():
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

    # -- what came back ------------------------------------------------------------------

    def _arrived(self, exchange: Exchange) -> None:
        """Judge an exchange, after the route preflight: until one request got an answer that
        shows the route exists, answers are held; `ROUTE_PREFLIGHT` requests all answered
        404/405 (or failing TLS) stop the run, with the URL tried and likely causes."""
        self._count_timeouts(exchange)
        if not self.route_checked:
            miss = _route_miss(exchange)
            # Any case counts: negatives go out first, and a refused body (400) shows the route
            # exists as well as an image does; 404/405 on every one of the first few does not.
            if exchange.status is not None or miss:
                if miss:
                    self.route_misses += 1
                else:
                    self.route_checked = True
            if not self.route_checked:
                self.held.append(exchange)
                if self.route_misses >= ROUTE_PREFLIGHT:
                    self._route_failed()
                return
            self._release_held()
        self._judge(exchange)

    def _release_held(self) -> None:
        held, self.held = self.held, []
        for exchange in held:
            self._judge(exchange)

    def _route_failed(self) -> None:
        held, self.held = self.held, []
        for exchange in held:
            if _route_miss(exchange):
                self.environment.append(
                    EnvironmentProblem(exchange.case.id, exchange.status or 0, self._miss(exchange))
                )
            else:
                self._judge(exchange)
        self._halt("the route preflight failed")

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
        """`max_timeouts` requests in a row without a status line in time: the gateway is
        unresponsive, and the rest of the plan would each cost a --timeout."""
        error = exchange.transport_error
        silent = exchange.status is None and (
            error in (Kind.TIMEOUT, Kind.DEADLINE)
            or (error is Kind.CONNECT and exchange.transport_detail.startswith("connect timeout"))
        )
        self.timeouts_in_a_row = self.timeouts_in_a_row + 1 if silent else 0
        if self.timeouts_in_a_row >= self.max_timeouts:
            self._halt(
                f"gateway unresponsive: {self.timeouts_in_a_row} requests in a row got no "
                "answer in time; remaining cases not sent"
            )

    # -- judging -------------------------------------------------------------------------

    def _judge(self, exchange: Exchange) -> None:
        case = exchange.case
        self.images += case.images_requested(self.op)
        provoked = provoked_fault(case) is not None
        self.answered_2xx = self.answered_2xx or 200 <= (exchange.status or 0) < 300
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
        if exchange.elapsed_s > SLOW_EXCHANGE_S or self.shrink_requests >= self.max_shrink:
            return False
        if "random" in case.tags or self.shrink_all:
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
        except Exception as exc:  # a crashing check is an error of that check, not of the run
            return [Problem(f"check crashed: {exc.__class__.__name__}: {exc}", error=True)]
        return self._within_declaration(chk, ctx.case, outcome)

    def _within_declaration(
        self, chk: Check, case: Case, outcome: list[Problem] | None
    ) -> list[Problem] | None:
        """A check that judged a case outside its `applies_to` is an error of that check: a run
        limited to it (`--checks`) would not have sent that case, and could pass falsely."""
        if outcome is None or chk.applies(case, self.op):
            return outcome
        return [
            Problem(
                f"check judged case {case.id} outside its declared applies_to "
                f"{list(chk.applies_to)}: the declaration is wrong",
                error=True,
            )
        ]

    def _record(self, chk: Check, exchange: Exchange, problems: list[Problem] | None) -> None:
        result = self.results[chk.id]
        if problems is None:
            return
        if not problems:
            result.record_pass()
            return
        self.failures += 1
        stored = len(result.failures) < MAX_STORED_FAILURES
        failure = failure_record(chk, exchange, problems, self.redactor) if stored else None
        result.record_failure(failure, error=all(p.error for p in problems))

    def _shrunk(self, chk: Check, exchange: Exchange) -> tuple[Exchange, list[Problem]] | None:
        """Reduce a failing random case to a minimal body that still fails `chk`."""
        from conformance.plan.shrink import shrink

        found: dict[str, tuple[Exchange, list[Problem]]] = {}

        deadline = time.monotonic() + MAX_SHRINK_S

        def still_fails(candidate: Case) -> bool:
            if self._should_stop() or time.monotonic() > deadline:
                return False
            if self.shrink_requests >= self.max_shrink or not self.budget.take():
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

    def _probe_sdk(self) -> None:
        """The official SDK's requests (SDK-COMPAT), those the (narrowed) spec allows, each
        within the request budget."""
        if self._should_stop() or not self.answered_2xx:
            self.sdk_note = "not run: the run was stopped, or no request was answered 2xx"
            return
        if self.config.shard is not None and self.config.shard.index != 1:
            self.sdk_note = "not run: the first shard probes the SDK"
            return
        if self.budget.cap is not None and self.budget.sent >= self.budget.cap:
            self.sdk_note = "not run: request budget (--max-requests) spent"
            return
        from conformance.sdk_probe import probe

        validator = self.op.request_validator()

        def allowed(body: dict[str, object]) -> bool:
            return validator.is_valid(body) and self.budget.take()

        names = preset(self.config.budget).sdk_probes
        self.sdk, self.sdk_note = probe(self.target, self.op, self.config.bounds, allowed, names)
        self.images += sum(o.exchange.case.images_requested(self.op) for o in self.sdk or [])

    def _run_scope_checks(self) -> None:
        ctx = RunContext(self.spec, self.op, self.retained, self._fetch, sdk=self.sdk)
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
                self._record(chk, exchange, self._within_declaration(chk, exchange.case, problems))


def _route_miss(exchange: Exchange) -> bool:
    """An answer that says the route is wrong, not the gateway: 404/405, or TLS refused."""
    if exchange.status in ROUTE_MISS_STATUSES:
        return True
    return exchange.transport_error is Kind.CONNECT and exchange.transport_detail.startswith(
        TLS_FAILED
    )


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
