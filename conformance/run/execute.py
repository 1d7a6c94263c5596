"""The orchestrator: plan, then send and judge as answers arrive, then record.

`run(config)` never raises for what the gateway does; it raises `TargetUnreachable` when
nothing answers at all and `SpecError` for a bad spec.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from conformance.checks.registry import SdkOutcome
from conformance.config import RunConfig, Target
from conformance.model import Case
from conformance.plan import Plan
from conformance.plan.presets import preset
from conformance.redaction import Redactor
from conformance.results import RunResult
from conformance.run.arrivals import Arrivals
from conformance.run.judge import Judge, Progress
from conformance.run.plan import make_plan, probes_sdk, sdk_cases, sending_order, two_sided_cases
from conformance.run.reach import reach
from conformance.run.result import run_result
from conformance.run.send import Sender
from conformance.run.target import Served, target
from conformance.run.upstream import UpstreamRecords


def run(
    config: RunConfig,
    progress: Progress | None = None,
    cases: list[Case] | None = None,
    served: Served | None = None,
) -> RunResult:
    """Run the suite as `config` says and return what it measured. `cases` replaces the plan
    (`conformance replay` sends the saved failing requests); `served`: the gateway of
    `target(config)` entered by the caller (so the embedded one starts while it plans)."""
    with contextlib.nullcontext(served) if served else target(config) as gateway:
        run = _Run(gateway.config, gateway.base_url, gateway.upstream)
        return run.execute(progress, cases, ready=gateway.ready)


class _Run:
    """One run against one gateway (and the upstream whose records it reads, if any)."""

    def __init__(self, config: RunConfig, base_url: str, upstream: str | None) -> None:
        self.config = config
        self.base_url = base_url
        self.upstream = upstream.rstrip("/") if upstream else None
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
        self.redactor = Redactor(self.target.secrets())

    def execute(
        self, progress: Progress | None, given: list[Case] | None, ready: Callable[[], None]
    ) -> RunResult:
        config, op = self.config, self.op
        if given is None:
            plan = make_plan(config)
        else:
            plan = Plan(op=op, cases=given, coverage={}, seed=config.seed)
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        two_sided: list[Case] = []
        if self.upstream and given is None:  # a replay sends only its cases
            nonce = uuid.uuid4().hex[:8]
            # A shard sends its part of these too, so merged shards count each case once.
            two_sided = two_sided_cases(config, nonce)
        ready()  # the embedded gateway started while the run planned
        if sdk_cases(config):
            _preload_sdk()
        calls = max(config.max_upstream_calls, config.profile.max_upstream_calls)
        passes = config.credential_passes or config.profile.credential_passes
        # --max-duration bounds the sending, not the planning: the sender's clock starts here.
        with (
            Sender(config, self.target, op, self.redactor) as sender,
            UpstreamRecords(self.upstream, calls, passes) as records,
        ):
            judge = Judge(config, op, self.redactor, sender, records, progress)
            arrivals = Arrivals(config, self.target, op, self.redactor, sender, judge)
            sender.plan_deadline(len(plan.cases) + len(two_sided))
            if reach(config, self.target, op, self.redactor):
                sender.restart_clock()
            # The two-sided cases first, alongside the rest: each is told apart at the upstream
            # by its own token, so none waits for another (but those sharing a token), and a
            # paced stream's seconds overlap the plan's. The fake upstream draws their images.
            capped = config.max_requests is not None
            order = sending_order(two_sided, plan.cases, op, capped=capped)
            early = None if capped else _EarlyProbe(lambda: self._probe_sdk(sender, judge), judge)
            sender.send_all(order, arrivals.arrived, last=early)
            arrivals.release_held()
            if early is not None and early.outcome is not None and not sender.should_stop():
                sdk, sdk_note = early.outcome
            else:  # not sent early (or the run was stopped): decided now, as after every send
                sdk, sdk_note = self._probe_sdk(sender, judge)
            if progress is not None:
                progress.phase("judge", "checks of the whole run")
            judge.run_scope_checks(sdk)
            sender.finish()
        return run_result(
            config,
            base_url=self.base_url,
            redactor=self.redactor,
            plan=plan,
            cases=[*plan.cases, *two_sided],
            started_at=started_at,
            sender=sender,
            judge=judge,
            sdk=sdk,
            sdk_note=sdk_note,
            upstream=self.upstream is not None,
        )

    def _probe_sdk(self, sender: Sender, judge: Judge) -> tuple[list[SdkOutcome] | None, str]:
        """The official SDK's requests (SDK-COMPAT), those the (narrowed) spec allows, each
        within the request budget; or None and why they were not sent."""
        if not probes_sdk(self.config):
            return None, "not run: SDK-COMPAT is not among the checks run"
        if sender.should_stop() or not judge.answered_2xx:
            return None, "not run: the run was stopped, or no request was answered 2xx"
        if self.config.shard is not None and self.config.shard.index != 1:
            return None, "not run: the first shard probes the SDK"
        if sender.budget.spent():
            return None, "not run: request budget (--max-requests) spent"
        from conformance.sdk_probe import probe

        validator = self.op.request_validator()

        def allowed(body: dict[str, object]) -> bool:
            return validator.is_valid(body) and sender.budget.take()

        names = preset(self.config.budget).sdk_probes
        bounds, stop = self.config.bounds, sender.stopping
        return probe(self.target, self.op, bounds, allowed, names, stop=stop)


class _EarlyProbe:
    """The SDK's probes as the last task of an uncapped run's workers: taken once every chain
    is, so they overlap the last answers instead of following them (a worker's slot, so
    `--workers` still bounds the requests in flight). Sent only if a request was already
    answered 2xx; else, as when the run is stopped, the probes are decided after the sends."""

    def __init__(self, probe: Callable[[], tuple[list[SdkOutcome] | None, str]], judge: Judge):
        self._probe = probe
        self._judge = judge
        self.outcome: tuple[list[SdkOutcome] | None, str] | None = None

    def __call__(self) -> None:
        if self._judge.answered_2xx:
            self.outcome = self._probe()


def _preload_sdk() -> None:
    """Import the official SDK (about a second) in the background, while the cases are on the
    wire, rather than after them when its probes are sent."""

    def load() -> None:
        with contextlib.suppress(Exception):
            import openai  # noqa: F401

    threading.Thread(target=load, name="conformance-sdk-import", daemon=True).start()
