"""Random valid bodies come from schemathesis, fitted to the run and fixed by the seed."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.model import stream_exclusive_fields
from conformance.plan import Plan, build_plan
from conformance.plan.strategies import draw_bodies, generated_bodies, has_subject
from conformance.spec import Operation, Spec, spec_from_dict

PATH = "/openai/openai/deployments/{deployment-id}/images/generations"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operation


@pytest.fixture(scope="module")
def plans(op: Operation) -> list[Plan]:
    return [build_plan(op, seed=seed, model="gpt-image-test") for seed in (0, 1)]


def random_bodies(plan: Plan) -> list[dict[str, Any]]:
    return [c.body for c in plan.cases if "random" in c.tags]


def test_random_bodies_are_valid_and_fitted_to_the_run(op: Operation, plans: list[Plan]) -> None:
    validator = op.request_validator()
    exclusive = set(stream_exclusive_fields(op))
    assert exclusive, "the spec marks fields as not supported for streaming"
    order = list(op.properties)
    for plan in plans:
        bodies = random_bodies(plan)
        assert len(bodies) == 25
        assert len({json.dumps(b, sort_keys=True) for b in bodies}) == len(bodies)
        for body in bodies:
            assert validator.is_valid(body), body
            assert body["model"] == "gpt-image-test"
            assert set(body) <= set(op.properties)
            assert list(body) == [name for name in order if name in body]
            assert has_subject(body["prompt"])
            if body.get("stream") is True:
                assert not exclusive & set(body)
        randoms = [c for c in plan.cases if "random" in c.tags]
        assert all(c.deployment is None and c.api_version is None for c in randoms)
        assert not any(c.omit_api_version for c in randoms)


def test_random_part_reaches_every_optional_field(op: Operation, plans: list[Plan]) -> None:
    sent = {name for plan in plans for body in random_bodies(plan) for name in body}
    assert sent == set(op.properties)
    streamed = [b for plan in plans for b in random_bodies(plan) if b.get("stream") is True]
    assert streamed and len(streamed) < 50


def test_random_bodies_follow_an_edited_schema(spec: Spec) -> None:
    raw = copy.deepcopy(spec.raw)
    schema = raw["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema["properties"]["background"] = {
        "type": "string",
        "enum": ["opaque", "transparent"],
        "description": "Background. Not supported for streaming requests.",
    }
    del schema["properties"]["style"]
    op = spec_from_dict(raw).operation
    bodies = draw_bodies(op, "m", seed=0, count=40)
    assert {b.get("background") for b in bodies} == {"opaque", "transparent", None}
    assert not any("style" in b for b in bodies)
    assert not any(b.get("stream") is True and "background" in b for b in bodies)
    assert all(op.request_validator().is_valid(b) for b in bodies)


def test_schemathesis_schema_is_built_once_per_request_schema(spec: Spec) -> None:
    again = spec_from_dict(copy.deepcopy(spec.raw)).operation
    assert generated_bodies(spec.operation) is generated_bodies(again)


def test_exclude_and_count_are_honoured(op: Operation) -> None:
    first = draw_bodies(op, "m", seed=4, count=6)
    keys = frozenset(json.dumps(b, sort_keys=True) for b in first[:3])
    rest = draw_bodies(op, "m", seed=4, count=6, exclude=keys)
    assert len(first) == len(rest) == 6
    assert not keys & {json.dumps(b, sort_keys=True) for b in rest}
    assert draw_bodies(op, "m", seed=4, count=0) == []


_PRINT_RANDOM_PART = """
import json, sys
for name in sys.argv[2:]:
    __import__(name)
from conformance.plan import build_plan
from conformance.spec import load_spec
plan = build_plan(load_spec().operation, seed=int(sys.argv[1]), max_examples=10)
print(json.dumps([(c.id, c.body) for c in plan.cases if "random" in c.tags]))
"""


def random_part_in_fresh_process(seed: int, hash_seed: str, *modules: str) -> list[Any]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _PRINT_RANDOM_PART, str(seed), *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout))


def test_a_seed_names_one_random_part_in_any_process(spec: Spec) -> None:
    plain = random_part_in_fresh_process(3, "1")
    loaded = random_part_in_fresh_process(
        3, "2", "conformance.run", "conformance.cli", "conformance.targets.server"
    )
    assert plain == loaded and len(plain) == 10
    other_seed = build_plan(spec.operation, seed=4, max_examples=10)
    # Another seed needs no process of its own: JSON-shaped like the fresh processes' answers.
    other = json.loads(json.dumps([(c.id, c.body) for c in other_seed.cases if "random" in c.tags]))
    assert other != plain
