"""Budget presets: what smoke, standard and deep send, cost and promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.checks.registry import catalogue
from conformance.config import RunConfig
from conformance.plan import build_plan
from conformance.plan.domains import columns
from conformance.plan.presets import DEEP, PRESETS, SMOKE, STANDARD
from conformance.plan.prompts import TEXT_PROMPTS
from conformance.report import write_reports
from conformance.report.jsonreport import schema_errors
from conformance.run import dry_run_summary, make_plan, run
from conformance.spec import Operation, Spec
from conformance.targets.faults import FAULTS


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operation


def images(op: Operation, budget: str) -> int:
    return sum(c.images_requested(op) for c in build_plan(op, budget_name=budget).cases)


def test_smoke_stays_within_its_image_budget(op: Operation) -> None:
    assert SMOKE.max_images is not None
    assert images(op, "smoke") <= SMOKE.max_images < images(op, "standard")


@pytest.mark.parametrize("budget", sorted(PRESETS))
def test_every_budget_sends_every_named_prompt_once(op: Operation, budget: str) -> None:
    cases = build_plan(op, budget_name=budget).cases
    for name, prompt in TEXT_PROMPTS.items():
        carriers = [c for c in cases if f"text:{name}" in c.tags]
        assert len(carriers) == 1, (name, [c.id for c in carriers])
        assert carriers[0].body["prompt"] == prompt
        assert carriers[0].body.get("stream") is not True


def test_smoke_carries_the_named_prompts_on_its_value_rows(op: Operation) -> None:
    smoke = build_plan(op, budget_name="smoke").cases
    ids = {c.id for c in smoke}
    assert not {f"prompt-{name}" for name in TEXT_PROMPTS} & ids
    carriers = [c for c in smoke if any(t.startswith("text:") for t in c.tags)]
    assert {c.id.split("-")[0] for c in carriers} == {"pair"}
    standard = {c.id for c in build_plan(op).cases}
    assert {f"prompt-{name}" for name in TEXT_PROMPTS} <= standard


def test_smoke_sends_every_enum_and_boolean_value(op: Operation) -> None:
    fields = build_plan(op, budget_name="smoke").coverage["fields"]
    finite = [n for n in op.properties if op.field_schema(n).get("enum") or n == "stream"]
    assert finite, "the spec has enum fields"
    for name in finite:
        assert fields[name]["missing"] == [], (name, fields[name])


def test_standard_covers_every_value_and_pair(op: Operation) -> None:
    reached = build_plan(op).summary()["coverage"]
    assert reached["values"]["covered"] == reached["values"]["total"] > 0
    assert reached["pairs"]["covered"] == reached["pairs"]["total"] > 0
    smoke = build_plan(op, budget_name="smoke").summary()["coverage"]
    assert smoke["pairs"]["covered"] < reached["pairs"]["covered"]
    assert smoke["negative_rules"] == reached["negative_rules"]


def test_deep_sends_more_random_bodies_and_shrinks_everything(op: Operation) -> None:
    deep, standard = build_plan(op, budget_name="deep"), build_plan(op)
    assert deep.summary()["random_cases"] > standard.summary()["random_cases"]
    assert DEEP.shrink_all and not STANDARD.shrink_all


@pytest.mark.parametrize("budget", list(PRESETS))
def test_negatives_go_before_positives(op: Operation, budget: str) -> None:
    expects = [c.expect for c in build_plan(op, budget_name=budget).cases]
    assert "reject" in expects and "success" in expects
    assert expects.index("success") > max(i for i, e in enumerate(expects) if e == "reject")


def test_cases_that_vary_neither_size_nor_quality_ask_for_the_cheapest(op: Operation) -> None:
    """dall-e-3 at list prices: 1024x1024 standard is the cheapest image; counts above one
    only where counts are tested (parity pairs, the count boundary)."""
    plan = build_plan(op)
    named = [
        c for c in plan.cases if c.kind != "negative" and not c.id.startswith(("pair", "random"))
    ]
    assert named
    for case in named:
        if not case.id.startswith("parity"):
            assert case.body["size"] == "1024x1024", case.id
        assert case.body["quality"] == "standard", case.id
        if case.requested_n(op) > 1:
            assert case.id.startswith(("parity", "boundary-n")), case.id
    assert plan.coverage["plan"]["cheapest"] == {"size": "1024x1024", "quality": "standard"}


def test_smoke_blind_spots_are_derived(op: Operation) -> None:
    """Each declared blind spot names a real defect and an omission of smoke, and the case
    that would reveal it: absent from smoke's plan, present in standard's."""
    smoke, standard = build_plan(op, budget_name="smoke"), build_plan(op)
    for fault_id, blind in SMOKE.blind_faults.items():
        assert fault_id in FAULTS and not FAULTS[fault_id].benign, fault_id
        assert blind.omission in SMOKE.omits, fault_id
        assert not blind.in_plan(smoke.cases, op), f"smoke holds a case revealing {fault_id}"
        assert blind.in_plan(standard.cases, op), f"standard holds no case revealing {fault_id}"


def test_smoke_exercises_every_must_check(spec: Spec, tmp_path: Path) -> None:
    # The embedded pair (the reference gateway in front of the fake upstream), as a default
    # `conformance run --budget smoke`: the two-sided checks are exercised too.
    result = run(RunConfig(spec=spec, budget="smoke"))
    must = {c.id for c in catalogue() if c.level.value == "MUST"}
    unexercised = sorted(
        c.check_id for c in result.checks if c.check_id in must and not c.cases_run
    )
    assert unexercised == []
    # The two-sided cases reach only the suite's own fake upstream: they cost nothing.
    from conformance.plan.upstream import upstream_cases

    free = upstream_cases(spec.operation, model="dall-e-3", nonce="count")
    paid = result.stats.images - sum(c.images_requested(spec.operation) for c in free)
    assert paid <= (SMOKE.max_images or 0)
    # The dry run said so beforehand: the plan's images and the SDK's probes.
    assert result.coverage.get("sdk", "") == ""  # the probes ran (the SDK is a dev dependency)
    assert dry_run_summary(RunConfig(spec=spec, budget="smoke"))["images_requested"] == paid
    plan = result.coverage["plan"]
    assert plan["budget"] == "smoke"
    assert {f["fault"] for f in plan["faults_not_seen"]} == set(SMOKE.blind_faults)
    assert result.coverage["cost_estimate"]["total"] > 0
    document = json.loads(write_reports(result, tmp_path)["json"].read_text())
    assert schema_errors(document) == []
    assert "faults_not_seen" in (tmp_path / "report.html").read_text()


def test_dry_run_shows_each_preset(spec: Spec) -> None:
    summaries = {name: dry_run_summary(RunConfig(spec=spec, budget=name)) for name in PRESETS}
    for name, summary in summaries.items():
        assert summary["budget"] == name
        assert summary["cost_estimate"]["currency"] == "USD"
    totals = [summaries[n]["cost_estimate"]["total"] for n in ("smoke", "standard", "deep")]
    assert totals == sorted(totals) and totals[0] < totals[1] < totals[2]
    assert make_plan(RunConfig(spec=spec)).preset is STANDARD


def test_cli_dry_run_budget(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--dry-run", "--budget", "smoke"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.split("\n", 1)[1])
    assert summary["budget"] == "smoke"
    assert summary["images_requested"] <= (SMOKE.max_images or 0)
    assert summary["cost_estimate"]["price_table"]["as_of"] == "2025"


def test_pairwise_domains_unchanged_by_cost(op: Operation) -> None:
    """Cheap values are a tie-break: standard still sends every column value."""
    sent = {name: set() for name in columns(op)}
    for case in build_plan(op).cases:
        if case.id.startswith("pair"):
            for name in sent:
                sent[name].add(json.dumps(case.body.get(name, "<absent>")))
    assert all(len(values) == len(columns(op)[name]) for name, values in sent.items())


def test_a_stream_is_asked_for_a_transparent_background_but_in_smoke(op: Operation) -> None:
    """Without that case SSE-BACKGROUND-ALPHA judged nothing in any run (the reference reports
    a background only when one is asked for); smoke leaves it out and says so."""

    def transparent_streams(budget: str) -> list[str]:
        plan = build_plan(op, seed=0, budget_name=budget)
        return [
            c.id
            for c in plan.cases
            if isinstance(c.body, dict)
            and c.body.get("stream") is True
            and c.body.get("background") == "transparent"
            and c.body.get("output_format") != "jpeg"
        ]

    assert transparent_streams("standard") == ["extension-stream-transparent"]
    assert transparent_streams("smoke") == []
    assert "SSE-BACKGROUND-ALPHA" in " ".join(SMOKE.omits.values())
