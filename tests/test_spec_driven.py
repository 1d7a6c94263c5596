"""The spec is the source of truth: edit it and both the requests and the verdicts follow."""

from __future__ import annotations

import copy
from typing import Any

from conformance.config import RunConfig
from conformance.run import make_plan, run
from conformance.spec import Spec, spec_from_dict
from conformance.targets.server import running_gateway

PATH = "/openai/openai/deployments/{deployment-id}/images/generations"


def edited(spec: Spec, edit: Any) -> Spec:
    raw = copy.deepcopy(spec.raw)
    edit(raw["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"])
    return spec_from_dict(raw, source="edited")


def failed_ids(spec: Spec, base_url: str) -> set[str]:
    result = run(RunConfig(spec=spec, base_url=base_url, max_examples=5))
    return {c.check_id for c in result.checks if c.status == "failed"}


def lower_n_maximum(schema: dict[str, Any]) -> None:
    schema["properties"]["n"]["maximum"] = 4


def add_size(schema: dict[str, Any]) -> None:
    schema["properties"]["size"]["enum"].insert(0, "640x480")


def test_lower_maximum_of_n_changes_requests_and_verdict(spec: Spec) -> None:
    strict = edited(spec, lower_n_maximum)
    sent = [
        c.body.get("n") for c in make_plan(RunConfig(spec=strict)).cases if isinstance(c.body, dict)
    ]
    assert (
        4 in sent
        and 5 in sent
        and 10
        not in [
            c.body.get("n")
            for c in make_plan(RunConfig(spec=strict)).cases
            if c.expect == "success" and isinstance(c.body, dict)
        ]
    )
    # A gateway that follows the original spec accepts n=5: the edited spec says it must not.
    with running_gateway(spec) as original:
        assert "ERR-NEGATIVE-4XX" in failed_ids(strict, original)
    # A gateway that follows the edited spec conforms to it.
    with running_gateway(strict) as follows:
        assert failed_ids(strict, follows) == set()


def test_new_size_is_sent_and_validated(spec: Spec) -> None:
    wider = edited(spec, add_size)
    sizes = {
        c.body.get("size")
        for c in make_plan(RunConfig(spec=wider)).cases
        if c.expect == "success" and isinstance(c.body, dict)
    }
    assert "640x480" in sizes
    # The original gateway rejects the new size: a valid request answered 4xx.
    with running_gateway(spec) as original:
        assert "ERR-VALID-ACCEPTED" in failed_ids(wider, original)
    # A gateway built from the edited spec draws 640x480 images and passes every check.
    with running_gateway(wider) as follows:
        assert failed_ids(wider, follows) == set()
