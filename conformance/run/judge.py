"""Phase 3, judge: every applicable check on each exchange, then the run-scope checks.

A check that crashes, or judges a case outside its declared `applies_to`, is an error of that
check (never of the gateway, never silently a pass). Answers 401/403/429 describe the
environment (credentials, quota) and are judged by no check. A check whose subject the
document does not declare (`conformance.select.not_applicable`) judges nothing: the run names
it not applicable, and a MUST one leaves the run INCOMPLETE. Failures are shrunk
(`conformance.run.shrinking`) before they are recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from conformance.checks.registry import Check, ExchangeContext, Problem, RunContext, SdkOutcome
from conformance.config import RunConfig
from conformance.evidence import failure_record
from conformance.model import ENVIRONMENT_STATUSES, Case, Exchange, provoked_fault
from conformance.progress import RunProgress
from conformance.redaction import Redactor
from conformance.results import CheckResult, EnvironmentProblem
from conformance.run.plan import judging_checks, selected_checks
from conformance.run.rejudge import TimingRejudge
from conformance.run.send import Sender
from conformance.run.shrinking import Shrinker
from conformance.run.upstream import UpstreamRecords
from conformance.spec import Operation

RUN_SCOPE_TAG = "parity:"
MAX_STORED_FAILURES = 50  # per check: the rest are counted, not stored (reports stay small)

Progress = RunProgress
"""`progress(requests sent, failures, environment problems)` after each judged exchange, and
`progress.phase(name)` when the run enters its next phase (`conformance.progress`)."""


def fresh_results(checks: Sequence[Check], op: Operation) -> dict[str, CheckResult]:
    """A `CheckResult` per check of `checks`, by ID, with nothing judged yet."""
    return {
        c.id: CheckResult(
            check_id=c.id,
            level=c.level.value,
            statement=c.statement,
            pointer=c.spec_pointer(op),
            family=c.family,
            rationale=c.rationale,
        )
        for c in checks
    }


class Judge:
    """Holds the run's judgements: a `CheckResult` per selected check, the environment
    problems, and the exchanges kept for the run-scope checks."""

    def __init__(
        self,
        config: RunConfig,
        op: Operation,
        redactor: Redactor,
        sender: Sender,
        upstream: UpstreamRecords,
        progress: Progress | None,
    ) -> None:
        self.spec = config.spec
        self.op = op
        self.redactor = redactor
        self.sender = sender
        self.upstream = upstream
        self.progress = progress
        self.checks = selected_checks(config)
        self.judging = judging_checks(config)
        """The checks that judge: one whose subject the document does not declare judges
        nothing, so what the run names not applicable is what it left unjudged."""
        self.results = fresh_results(self.checks, op)
        self.shrinker = Shrinker(config, op, sender, self.apply)
        self.rejudge = TimingRejudge(config.spec, op, sender, upstream, self.apply)
        self.environment: list[EnvironmentProblem] = []
        self.retained: list[Exchange] = []
        self.images = 0
        self.failures = 0
        self.answered_2xx = False
        self._lock = threading.Lock()
        self._shrunk_stored: dict[str, int] = {}
        self.outcomes = sender.outcomes
        """What became of each case (`conformance.unjudged`), shared with the sender."""

    def judge(self, exchange: Exchange) -> None:
        """Every exchange-scope check on `exchange`. Thread-safe: the checks (and their image
        fetches, and shrinking) run on the calling thread, the recording under a lock."""
        case = exchange.case
        provoked = provoked_fault(case) is not None
        with self._lock:
            self.images += case.images_requested(self.op)
            self.answered_2xx = self.answered_2xx or 200 <= (exchange.status or 0) < 300
        if exchange.status in ENVIRONMENT_STATUSES and not provoked:
            # Credentials or quota describe the environment: no check judges them.
            self.environment_problem(
                EnvironmentProblem(
                    case_id=case.id,
                    status=exchange.status or 0,
                    message=self.redactor.text(exchange.body[:300].decode("utf-8", "replace")),
                )
            )
            self.outcomes.environment.add(case.id)
            return
        self.outcomes.judged.add(case.id)
        ctx = ExchangeContext(
            self.spec, self.op, exchange, self.sender.fetch, upstream=self.upstream.view(case)
        )
        judged: list[tuple[Check, Exchange, list[Problem] | None, bool]] = []
        for chk in self.judging:
            if chk.scope != "exchange":
                continue
            problems = self.apply(chk, ctx)
            evidence = exchange
            if problems and not chk.timing and self.shrinker.worth_shrinking(chk, exchange):
                evidence, problems = self.shrinker.shrunk(chk, exchange) or (exchange, problems)
            judged.append((chk, evidence, problems, evidence is not exchange))
        # After every check read this answer's upstream records: a re-send adds to them.
        judged = [
            (chk, *self.rejudge.again(chk, evidence, problems or []), False)
            if self.rejudge.wanted(chk, problems)
            else (chk, evidence, problems, shrunk)
            for chk, evidence, problems, shrunk in judged
        ]
        with self._lock:
            for chk, evidence, problems, shrunk in judged:
                self._record(chk, evidence, problems, shrunk=shrunk)
            if any(tag.startswith(RUN_SCOPE_TAG) for tag in case.tags):
                self.retained.append(exchange)
            self._tick()

    def environment_problem(self, problem: EnvironmentProblem) -> None:
        with self._lock:
            self.environment.append(problem)
            self._tick()

    def _tick(self) -> None:
        if self.progress:
            self.progress(self.sender.budget.sent, self.failures, len(self.environment))

    def apply(self, chk: Check, ctx: ExchangeContext) -> list[Problem] | None:
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

    def _record(
        self,
        chk: Check,
        exchange: Exchange,
        problems: list[Problem] | None,
        *,
        shrunk: bool = False,
    ) -> None:
        """Count one judgement. A shrunk failure (a minimal reproducer) is stored ahead of the
        failures as sent, whatever other workers recorded while it was shrinking."""
        result = self.results[chk.id]
        if problems is None:
            return
        if not problems:
            result.record_pass()
            return
        self.failures += 1
        leading = self._shrunk_stored.get(chk.id, 0)
        stored = (leading if shrunk else len(result.failures)) < MAX_STORED_FAILURES
        failure = failure_record(chk, exchange, problems, self.redactor) if stored else None
        result.record_failure(failure, error=all(p.error for p in problems))
        if shrunk and failure is not None:
            result.failures.insert(leading, result.failures.pop())
            self._shrunk_stored[chk.id] = leading + 1
            del result.failures[MAX_STORED_FAILURES:]

    def run_scope_checks(self, sdk: list[SdkOutcome] | None) -> None:
        """The checks over the whole run: the parity groups kept, the SDK's outcomes."""
        ctx = RunContext(self.spec, self.op, self.retained, self.sender.fetch, sdk=sdk)
        for chk in self.judging:
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
