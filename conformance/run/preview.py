"""What `--dry-run` foresees: the gate's decision (`conformance.gate.decide`) on the run it
plans, had every case it sends been judged and passed. The checks the run would leave
unjudged, out of scope or not applicable are named by the same rules as a run's
(`conformance.unjudged`), so the dry run's verdict, exit code and not-applicable list are the
ones a run against a conforming gateway ends with.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance import __version__
from conformance.config import RunConfig
from conformance.gate import Gate, decide
from conformance.model import Case
from conformance.results import RunResult
from conformance.run.judge import fresh_results
from conformance.run.plan import judging_checks, selected_checks, watches_upstream
from conformance.unjudged import SDK_CHECK, TWO_SIDED_FAMILY, Absent, Outcomes, Setup, mark_unjudged

UNSENT_SDK_NOTE = "the SDK's probes would not be sent"


def foreseen(config: RunConfig, sent: Sequence[Case], absent: Absent, sdk: Sequence[Case]) -> Gate:
    """The gate's decision on a run that sends `sent` (the plan's and the two-sided cases) and
    the SDK's probes `sdk`, every answer judged and passed; `absent`: the whole plan's cases
    the run would not send (the cap's, other shards')."""
    spec, op = config.spec, config.spec.operation
    checks = selected_checks(config)
    judging = {c.id for c in judging_checks(config)}
    upstream = watches_upstream(config)
    results = fresh_results(checks, op)
    for chk in checks:
        if chk.id not in judging or (chk.family == TWO_SIDED_FAMILY and not upstream):
            continue
        if sdk if chk.id == SDK_CHECK else any(chk.applies(c, op) for c in sent):
            results[chk.id].record_pass()
        results[chk.id].settle()
    from conformance.sdk_probe import sdk_installed

    setup = Setup(
        upstream=upstream,
        sdk_installed=sdk_installed(),
        sdk_note="" if sdk else UNSENT_SDK_NOTE,
        narrowed=config.narrowed,
        budget=config.budget,
        max_requests=config.max_requests,
    )
    outcomes = Outcomes(judged={c.id for c in sent})
    mark_unjudged(results, checks, op, sent, absent, outcomes, setup)
    return decide(
        RunResult(
            suite_version=__version__,
            target=config.base_url or "embedded reference gateway",
            spec_title=spec.title,
            spec_source=spec.source,
            spec_sha256=spec.sha256,
            operation=f"{op.method.upper()} {op.path}",
            seed=config.seed,
            started_at="",
            checks=list(results.values()),
            strict=config.strict,
            required=list(config.required),
        )
    )
