"""The embedded targets follow the loaded document: its route, its request rules and the
shapes of its answers; what the reference gateway cannot serve is said, with exit 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from conformance.config import RunConfig
from conformance.errors import SpecError
from conformance.model import Level, Status
from conformance.run import run
from conformance.spec import JSON, SSE, Spec, load_spec, spec_from_dict
from conformance.targets.reference import create_app
from conformance.targets.server import running_gateway
from conformance.targets.shape import fit

OPENAI_STYLE = Path(__file__).parent / "data" / "openai-style.yaml"


@pytest.fixture(scope="module")
def openai_style() -> Spec:
    return load_spec(OPENAI_STYLE)


def test_fit_adds_required_drops_refused_and_keeps_the_rest() -> None:
    schema = {
        "type": "object",
        "required": ["background", "quality"],
        "properties": {
            "background": {"type": "string", "enum": ["transparent", "opaque", "auto"]},
            "quality": {"type": "string", "enum": ["low", "high"]},
            "size": {"type": "string", "enum": ["1024x1024"]},
            "data": {"type": "array", "items": {"properties": {"index": {"type": "integer"}}}},
        },
    }
    body = {"quality": "hd", "size": "256x256", "data": [{"index": 0, "b64_json": "x"}], "n": 1}
    assert fit(body, schema) == {
        "quality": "low",
        "data": [{"index": 0, "b64_json": "x"}],
        "n": 1,
        "background": "auto",
    }


def test_fit_changes_nothing_the_bundled_document_allows(spec: Spec) -> None:
    op = spec.operation
    body = {"created": 1, "data": [{"b64_json": "x", "index": 0}], "size": "1024x1024"}
    event = {"type": "image_generation.completed", "b64_json": "x", "size": "auto"}
    assert fit(copy.deepcopy(body), op.response_schema(200, JSON)) == body
    assert fit(copy.deepcopy(event), op.response_schema(200, SSE)) == event


def test_reference_serves_the_document_route_and_shapes(openai_style: Spec) -> None:
    op = openai_style.operation
    body = {"prompt": "a red apple", "quality": "hd", "size": "1024x1024"}
    with running_gateway(openai_style) as url, httpx.Client(base_url=url, timeout=10) as http:
        answered = http.post(op.path, json=body)
        streamed = http.post(op.path, json={**body, "stream": True, "quality": "high"})
    assert answered.status_code == 200
    Draft202012Validator(op.response_schema(200, JSON)).validate(answered.json())
    assert streamed.status_code == 200
    events = [
        json.loads(line.removeprefix("data: "))
        for line in streamed.text.splitlines()
        if line.startswith("data: {")
    ]
    assert events
    for event in events:
        Draft202012Validator(op.response_schema(200, SSE)).validate(event)


def test_embedded_run_follows_the_document(openai_style: Spec) -> None:
    result = run(RunConfig(spec=openai_style, seed=0, budget="smoke"))
    failing = {
        c.check_id: c.failures[0].message if c.failures else c.status
        for c in result.checks
        if c.status in (Status.FAILED.value, Status.ERROR.value) and c.level == Level.MUST
    }
    assert failing == {}
    judged = [c for c in result.checks if c.status == Status.PASSED.value]
    assert {"IMG-JSON-SCHEMA", "SSE-EVENT-SCHEMA", "ERR-NEGATIVE-4XX"} <= {
        c.check_id for c in judged
    }


def _with_request_media(spec: Spec, media: str) -> dict[str, Any]:
    raw = copy.deepcopy(spec.raw)
    content = raw["paths"][spec.operation.path]["post"]["requestBody"]["content"]
    raw["paths"][spec.operation.path]["post"]["requestBody"]["content"] = {
        media: content["application/json"]
    }
    return raw


def test_what_the_reference_cannot_serve_is_said(openai_style: Spec) -> None:
    raw = _with_request_media(openai_style, "multipart/form-data")
    edits = spec_from_dict(raw, "edits", operation="createImage")
    with pytest.raises(
        SpecError, match="cannot serve POST /images/generations of edits: .*multipart"
    ):
        create_app(edits)


def _item_schema_document(tmp_path: Path) -> Path:
    """The OpenAI-style document with its events declared as OpenAPI 3.2 does: an `itemSchema`
    per event whose `data` carries the payload as `contentSchema`."""
    raw = yaml.safe_load(OPENAI_STYLE.read_text(encoding="utf-8"))
    stream = raw["paths"]["/images/generations"]["post"]["responses"]["200"]["content"][SSE]
    payloads = stream.pop("schema")["oneOf"]
    kinds = ["image_generation.partial_image", "image_generation.completed"]
    stream["itemSchema"] = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "event": {"const": kind},
                    "data": {"contentMediaType": JSON, "contentSchema": payload},
                },
            }
            for kind, payload in zip(kinds, payloads, strict=True)
        ]
    }
    path = tmp_path / "item-schema.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(("fault", "flagged"), [(None, False), ("partial-event-size-null", True)])
def test_events_are_judged_by_an_item_schema(
    tmp_path: Path, fault: str | None, flagged: bool
) -> None:
    spec = load_spec(_item_schema_document(tmp_path), validate=False)
    assert list(spec.operation.response_schema(200, SSE)) == ["oneOf"]
    with running_gateway(spec, fault) as url:
        config = RunConfig(spec=spec, base_url=url, seed=0, budget="smoke")
        config.checks = ("SSE-EVENT-SCHEMA",)
        result = run(config)
    (check,) = [c for c in result.checks if c.check_id == "SSE-EVENT-SCHEMA"]
    assert check.status == (Status.FAILED.value if flagged else Status.PASSED.value)


def test_checks_the_document_gives_nothing_to_judge_are_named(
    spec: Spec, openai_style: Spec
) -> None:
    from conformance.checks.registry import catalogue
    from conformance.select import not_applicable

    assert not_applicable(catalogue(), spec.operation) == {}
    named = not_applicable(catalogue(), openai_style.operation)
    assert (
        named["ERR-ENVELOPE-SCHEMA"] == "the document declares no application/json answer for 400"
    )
    assert named["FALLBACK-ORDER"] == "the request declares no fallbacks field"
    silent = copy.deepcopy(openai_style.raw)
    del silent["paths"]["/images/generations"]["post"]["responses"]["200"]["content"][SSE]
    reasons = not_applicable(catalogue(), spec_from_dict(silent, "no-stream").operation)
    stream_checks = [c.id for c in catalogue() if c.family == "sse"]
    assert stream_checks and all(
        reasons.get(i, "").startswith("the document declares no text/event-stream")
        or i == "SSE-PARITY"
        for i in stream_checks
    ), reasons


def test_a_run_names_what_is_not_applicable_in_its_coverage(openai_style: Spec) -> None:
    from conformance.run import make_plan

    coverage = make_plan(RunConfig(spec=openai_style, budget="smoke")).coverage
    assert coverage["not_applicable"]["FALLBACK-ORDER"] == "the request declares no fallbacks field"


def test_the_upstream_answers_openai_and_the_document_route(openai_style: Spec) -> None:
    from starlette.testclient import TestClient

    from conformance.targets.upstream import create_upstream_app

    body = {"prompt": "a cat", "size": "256x256", "response_format": "b64_json"}
    key = {"authorization": "Bearer k"}
    with TestClient(create_upstream_app(openai_style)) as http:
        for path in ("/v1/images/generations", openai_style.operation.path):
            answered = http.post(path, json=body, headers=key)
            assert answered.status_code == 200, (path, answered.text)
            Draft202012Validator(openai_style.operation.response_schema(200, JSON)).validate(
                answered.json()
            )
        assert http.post("/elsewhere", json=body, headers=key).status_code == 404


THIRD_PARTY = Path(__file__).parent.parent / "conformance" / "specs" / "third_party"
VENDORED = {
    "openai": (THIRD_PARTY / "openai" / "openapi.yaml", None),
    "bifrost": (THIRD_PARTY / "bifrost" / "openapi.yaml", "POST /v1/images/generations"),
}


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_an_embedded_run_follows_a_vendored_document(name: str) -> None:
    """A vendored document: the plan sends every value of its image fields' enums, the
    embedded pair serves its route, and nothing the document asks of a gateway fails."""
    where, operation = VENDORED[name]
    spec = load_spec(where, operation=operation)
    result = run(RunConfig(spec=spec, seed=0, budget="smoke"))
    fields = result.coverage["fields"]
    for field in ("size", "quality", "style", "response_format", "output_format", "background"):
        assert fields[field]["values"] and fields[field]["missing"] == [], (field, fields[field])
    assert result.coverage["refused_by_schema"] == []
    musts = {
        c.check_id
        for c in result.checks
        if c.level == Level.MUST and c.status in (Status.FAILED.value, Status.ERROR.value)
    }
    assert musts == set()
    judged = {c.check_id for c in result.checks if c.status == Status.PASSED.value}
    assert {"IMG-JSON-SCHEMA", "SSE-EVENT-SCHEMA", "IMG-SIZE", "ERR-NEGATIVE-4XX"} <= judged


def test_a_must_check_the_document_gives_nothing_is_named_and_leaves_the_run_incomplete(
    openai_style: Spec,
) -> None:
    """Not applicable, not passed: INCOMPLETE until the user excludes it (rulings, Verdicts)."""
    from conformance.gate import decide

    silent = copy.deepcopy(openai_style.raw)
    del silent["paths"]["/images/generations"]["post"]["responses"]["200"]["content"][SSE]
    spec = spec_from_dict(silent, "no-stream")
    config = RunConfig(spec=spec, seed=0, budget="smoke")
    config.checks = ("SSE-EVENT-SCHEMA", "IMG-JSON-SCHEMA")
    result = run(config)
    (stream,) = [c for c in result.checks if c.check_id == "SSE-EVENT-SCHEMA"]
    assert stream.unjudged_kind == "not-applicable"
    assert "text/event-stream" in stream.unjudged_reason
    gate = decide(result)
    assert gate.verdict.value == "INCOMPLETE" and gate.exit_code == 4
    assert "--exclude-checks SSE-EVENT-SCHEMA" in gate.headline
    config.exclude_checks = ("SSE-EVENT-SCHEMA",)
    config.checks = ("IMG-JSON-SCHEMA",)
    assert decide(run(config)).verdict.value == "CONFORMANT"
