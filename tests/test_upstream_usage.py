"""The fake upstream's odd `usage` on demand, and the two-sided cases that ask for it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from conformance.model import PROVIDER_USAGE, provoked_fault
from conformance.plan.upstream import ODD_USAGE, upstream_cases
from conformance.spec import Spec
from conformance.targets.upstream import UpstreamSettings, create_upstream_app

AZURE = "/openai/deployments/dall-e-3/images/generations?api-version=2024-02-01"


@pytest.mark.parametrize("kind", ODD_USAGE)
def test_odd_usage_is_a_success_with_the_images(spec: Spec, kind: str) -> None:
    app = create_upstream_app(spec, UpstreamSettings())
    body = {"prompt": f"fox [[upstream:{kind}]]", "response_format": "b64_json"}
    answer = TestClient(app).post(AZURE, json=body, headers={"api-key": "k"})
    assert answer.status_code == 200
    found = answer.json()
    assert len(found["data"]) == 1
    usage = found.get("usage", "absent")
    expected = {"usage-missing": "absent", "usage-null": None}
    if kind in expected:
        assert usage == expected[kind]
    else:
        assert isinstance(usage["input_tokens"], float) and "billing" in usage


def test_the_usage_cases_are_successes_not_provoked_failures(spec: Spec) -> None:
    cases = [
        c for c in upstream_cases(spec.operation, model="m", nonce="n") if c.id[9:] in ODD_USAGE
    ]
    assert [c.id for c in cases] == [f"upstream-{kind}" for kind in ODD_USAGE]
    for c in cases:
        assert PROVIDER_USAGE in c.tags and provoked_fault(c) is None
        assert f"[[upstream:{c.id[9:]}]]" in c.body["prompt"]
