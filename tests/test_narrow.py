"""--narrow: fit the spec to what one deployment's model supports (e.g. dall-e-3)."""

from __future__ import annotations

import pytest

from conformance import cli
from conformance.config import RunConfig
from conformance.errors import SpecError
from conformance.run import make_plan, run
from conformance.spec import Spec, load_spec, narrow
from conformance.targets.server import running_gateway

DALL_E_3 = ["n<=1", "size=1024x1024,1792x1024,1024x1792", "stream=false"]


@pytest.mark.parametrize(
    "rule",
    [
        "n<=0",
        "n>=11",
        "size=9x9",
        "style=",
        "colour=red",
        "prompt<=3",
        "model=x",
        "n~1",
        "stream=1",
    ],
)
def test_rules_that_leave_nothing_or_do_not_fit_are_spec_errors(spec: Spec, rule: str) -> None:
    with pytest.raises(SpecError):
        narrow(spec, [rule])


def test_narrowed_plan_sends_only_what_the_model_supports(spec: Spec) -> None:
    narrowed = narrow(spec, DALL_E_3)
    assert narrowed.sha256 != spec.sha256 and "narrowed" in narrowed.source
    cases = make_plan(RunConfig(spec=narrowed)).cases
    valid = [c.body for c in cases if c.expect == "success" and isinstance(c.body, dict)]
    assert valid and all(b.get("n", 1) == 1 for b in valid)
    assert all(b.get("stream") is not True for b in valid)
    assert {b["size"] for b in valid if "size" in b} == {"1024x1024", "1792x1024", "1024x1792"}
    rejected = [c.body for c in cases if c.expect == "reject" and isinstance(c.body, dict)]
    assert any(b.get("n") == 2 for b in rejected)
    assert any(b.get("stream") is True for b in rejected)


def test_a_single_image_gateway_passes_only_against_its_narrowed_spec(spec: Spec) -> None:
    narrowed = narrow(spec, DALL_E_3)
    with running_gateway(narrowed) as url:
        full = run(RunConfig(spec=spec, base_url=url, max_examples=5))
        fitted = run(RunConfig(spec=narrowed, base_url=url, max_examples=5))
    assert "ERR-VALID-ACCEPTED" in {c.check_id for c in full.checks if c.status == "failed"}
    assert [c.check_id for c in fitted.checks if c.status == "failed"] == []


@pytest.mark.parametrize("name", ["bifrost", "openai"])
def test_a_vendored_document_narrows_through_its_composition(name: str) -> None:
    """Bifrost's request is an allOf, OpenAI's sizes an open enum (anyOf of a string and an
    enum): both narrow as the flat document does, for the plan and for the validator."""
    sizes = ["1024x1024", "1792x1024"]
    narrowed = narrow(load_spec(name), ["n<=1", f"size={','.join(sizes)}", "stream=false"])
    op = narrowed.operation
    assert op.field_schema("size")["enum"] == sizes and "openEnum" not in op.field_schema("size")
    assert op.field_schema("n")["maximum"] == 1
    cases = make_plan(RunConfig(spec=narrowed)).cases
    valid = [c.body for c in cases if c.expect == "success" and isinstance(c.body, dict)]
    assert valid and all(b.get("n", 1) == 1 and b.get("stream") is not True for b in valid)
    assert {b["size"] for b in valid if "size" in b} <= set(sizes)
    validator = narrowed.operation.request_validator()
    assert not validator.is_valid({**valid[0], "n": 2})
    assert not validator.is_valid({**valid[0], "size": "512x512"})


def test_run_narrows_the_bifrost_document(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--spec", "bifrost", "--narrow", "n<=1", "--dry-run", "--budget", "smoke"]
    assert cli.main(argv) == 0
    assert "n=2..10 is now expected to be refused" in capsys.readouterr().out
