"""A failure found by random generation is reduced to a minimal body before it is reported."""

from __future__ import annotations

import json

from starlette.responses import JSONResponse, Response

from conformance.config import RunConfig
from conformance.run import run
from conformance.spec import Spec
from conformance.targets.faults import Fault
from conformance.targets.messages import GatewayRequest, Refusal
from conformance.targets.server import running_gateway


def _vivid_crashes(req: GatewayRequest) -> Response | Refusal | None:
    if req.parsed and req.field("style") == "vivid":
        return JSONResponse({"error": {"message": "style renderer crashed"}}, status_code=500)
    return None


VIVID_500 = Fault(
    id="test-vivid-500",
    summary="style=vivid crashes the upstream adapter",
    expected_check="PROTO-NO-5XX",
    intercept=_vivid_crashes,
)


def test_random_failures_are_reported_with_a_minimal_body(spec: Spec) -> None:
    op = spec.operation
    with running_gateway(spec, VIVID_500) as url:
        result = run(RunConfig(spec=spec, base_url=url, seed=3, max_examples=30))
    no_5xx = next(c for c in result.checks if c.check_id == "PROTO-NO-5XX")
    shrunk = [f for f in no_5xx.failures if f.case_id.endswith("-shrunk")]
    assert shrunk, "no random case failed, or none was shrunk"
    for failure in shrunk:
        body = json.loads(failure.request["body"])
        assert body["style"] == "vivid"
        assert set(body) == {*op.required_fields, "style"}
        assert len(body["prompt"]) <= 1
    assert result.stats.requests > result.stats.cases  # shrink attempts are counted


def test_first_failure_of_each_check_carries_a_minimal_reproducer(spec: Spec) -> None:
    op = spec.operation
    with running_gateway(spec, "drops-last-image-when-n-ge-2") as url:
        result = run(RunConfig(spec=spec, base_url=url, max_examples=3))
    count = next(c for c in result.checks if c.check_id == "IMG-COUNT")
    first = count.failures[0]
    assert first.case_id.endswith("-shrunk")
    body = json.loads(first.request["body"])
    assert set(body) == {*op.required_fields, "n"} and body["n"] == 2
    assert body["n"] == 2 and json.dumps(body) in first.curl.replace("'", "")
