"""The whole suite against the reference gateway with each fault: defects are flagged by their
expected check; benign variations and the clean reference are not flagged at all."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.config import RunConfig
from conformance.model import Status
from conformance.plan.presets import SMOKE
from conformance.run import run
from conformance.run.plan import full_plan, selected_checks
from conformance.select import judgeable
from conformance.spec import Spec
from conformance.targets.faults import FAULTS, Fault
from conformance.targets.server import running_gateway

SEED = 0
BENIGN = ["reference", "reference-pair", *(f.id for f in FAULTS.values() if f.benign)]
DEFECTS = [f.id for f in FAULTS.values() if not f.benign]
PAIRED = ["reference-pair", *(f.id for f in FAULTS.values() if f.family == "forwarding")]
SMOKE_SEES = [
    fault_id
    for fault_id in DEFECTS
    if fault_id not in SMOKE.blind_faults and FAULTS[fault_id].family != "forwarding"
]
"""A forwarding fault shows on the two-sided cases (the upstream records they read, the
upstream answers they provoke), and those are the same in every budget (`upstream_cases`
takes none): the standard run that flags the fault proves smoke does too."""
SMOKE_BENIGN = [fault_id for fault_id in BENIGN if fault_id not in PAIRED[1:]]
"""The embedded pair itself is run under smoke; its benign forwarding variations change only
the upstream leg, which smoke's cases take as standard's do."""
FORWARDING_EXAMPLES = 1
"""Forwarding faults act on the two-sided cases: a small random part keeps their runs short."""


def failed_checks(
    spec: Spec,
    fault: Fault | None,
    paired: bool = False,
    budget: str = "standard",
    only: str | None = None,
) -> dict[str, str]:
    """Check ID -> first failure message, for every check that failed or errored, in a
    default run (default plan and bounds; `budget` the preset; `only`: that check alone
    judged, see `narrowed`); `paired`: the embedded pair (the reference gateway forwarding to
    the fake upstream), as `conformance run` without --base-url."""
    config = RunConfig(spec=spec, seed=SEED, budget=budget)
    if paired:
        config.fault = fault.id if fault else None
        if fault is not None:
            config.max_examples = FORWARDING_EXAMPLES
    if only is not None:
        config.checks = narrowed(config, only)
    if paired:
        result = run(config)
    else:
        with running_gateway(spec, fault) as url:
            config.base_url = url
            result = run(config)
    assert not result.incomplete, result.incomplete_reason
    failing = (Status.FAILED.value, Status.ERROR.value)
    return {
        c.check_id: (c.failures[0].message if c.failures else c.status)
        for c in result.checks
        if c.status in failing
    }


def narrowed(config: RunConfig, check_id: str) -> tuple[str, ...]:
    """`--checks check_id` when that leaves out some of the plan's cases, else no selection
    (the whole plan, built once per process, costs less than building the same cases again).
    No cap cuts the default plans (`test_no_cap_cuts_the_default_plan`), so the narrowed run
    sends the check exactly the cases the whole run sends it, and the benign runs prove every
    check quiet on those cases without the fault: the verdict is the whole run's."""
    checks = (check_id,)
    whole = full_plan(config).cases
    judged = judgeable(
        whole, selected_checks(replace(config, checks=checks)), config.spec.operation
    )
    return checks if len(judged) < len(whole) else ()


@pytest.mark.parametrize("fault_id", DEFECTS)
def test_defect_is_flagged_by_its_check(spec: Spec, fault_id: str) -> None:
    fault = FAULTS[fault_id]
    paired = fault_id in PAIRED
    failed = failed_checks(spec, fault, paired=paired, only=fault.expected_check)
    assert fault.expected_check in failed, (
        f"{fault_id} ({fault.summary}) not flagged by {fault.expected_check}; failed: {failed}"
    )


@pytest.mark.parametrize("fault_id", BENIGN)
def test_benign_variation_is_not_flagged(spec: Spec, fault_id: str) -> None:
    fault = FAULTS.get(fault_id)
    failed = failed_checks(spec, fault, paired=fault_id in PAIRED)
    assert failed == {}, f"{fault_id} flagged: {failed}"


@pytest.mark.parametrize("fault_id", SMOKE_SEES)
def test_smoke_flags_the_defect_with_its_check(spec: Spec, fault_id: str) -> None:
    fault = FAULTS[fault_id]
    paired = fault_id in PAIRED
    failed = failed_checks(spec, fault, paired=paired, budget=SMOKE.name, only=fault.expected_check)
    assert fault.expected_check in failed, (
        f"{fault_id} not flagged by {fault.expected_check} under smoke; failed: {failed}. "
        "If smoke cannot see it, declare it in SMOKE.blind_faults with the case that would."
    )


@pytest.mark.parametrize("fault_id", sorted(SMOKE.blind_faults))
def test_smoke_blind_spots_are_real(spec: Spec, fault_id: str) -> None:
    """A fault declared invisible to smoke is indeed not flagged by its check there (the
    list holds no padding); the standard matrix above proves standard sees it."""
    fault = FAULTS[fault_id]
    failed = failed_checks(spec, fault, paired=fault_id in PAIRED, budget=SMOKE.name)
    assert fault.expected_check not in failed, f"{fault_id} is seen by smoke: drop it from the list"


@pytest.mark.parametrize("fault_id", SMOKE_BENIGN)
def test_smoke_flags_no_benign_variation(spec: Spec, fault_id: str) -> None:
    paired = fault_id in PAIRED
    assert failed_checks(spec, FAULTS.get(fault_id), paired=paired, budget=SMOKE.name) == {}


@pytest.mark.parametrize("budget", ["standard", SMOKE.name])
def test_no_cap_cuts_the_default_plan(spec: Spec, budget: str) -> None:
    """What lets a defect's run send only its check's cases (`narrowed`): with no cap, the
    plan for one check holds exactly the whole plan's cases that check judges."""
    config = RunConfig(spec=spec, seed=SEED, budget=budget)
    whole = full_plan(config)
    assert not whole.cut, whole.cut
    alone = replace(config, checks=("IMG-ECHO",))
    judged = judgeable(whole.cases, selected_checks(alone), spec.operation)
    assert [c.id for c in full_plan(alone).cases] == [c.id for c in judged]
