"""The reference gateway answers as the spec says, and each fault changes it as it claims."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.testclient import TestClient

from conformance.spec import JSON, SSE, Spec
from conformance.targets import validation
from conformance.targets.faults import FAULTS, resolve_fault
from conformance.targets.messages import GatewayRequest
from conformance.targets.reference import create_app
from conformance.targets.server import running_gateway

DEPLOYMENT = "dall-e-3"
PROMPT = "a lighthouse at dusk"
COMPLETED = "image_generation.completed"


def endpoint(spec: Spec, base_url: str, deployment: str = DEPLOYMENT) -> str:
    return base_url + spec.operation.path.replace("{deployment-id}", deployment)


def generate(spec: Spec, base_url: str, body: Any, **kwargs: Any) -> httpx.Response:
    url = endpoint(spec, base_url)
    params = kwargs.pop("params", {"api-version": "2024-02-01"})
    return httpx.post(url, json=body, params=params, timeout=10, **kwargs)


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON payloads of a stream, framed by blank lines (data lines joined)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data and data != ["[DONE]"]:
            events.append(json.loads("\n".join(data)))
    return events


def assert_usage_adds_up(usage: dict[str, Any]) -> None:
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    for name in ("input_tokens", "output_tokens"):
        assert sum(usage[f"{name}_details"].values()) == usage[name]


def assert_envelope(spec: Spec, response: httpx.Response, status: int, param: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    schema = spec.operation.error_schema(status)
    assert schema is not None
    assert list(spec.operation.validator(schema).iter_errors(body)) == []
    assert body["status_code"] == status
    assert body["is_bifrost_error"] is True
    assert body["event_id"] and body["type"]
    assert body["error"]["param"] == param
    assert body["error"]["message"] and body["error"]["code"] and body["error"]["type"]
    assert body["error"]["event_id"] == body["event_id"]
    extra = body["extra_fields"]
    assert extra["provider"] == "azure"
    assert extra["request_type"] == "image_generation"
    assert isinstance(extra["model_requested"], str)


def test_b64_images_have_the_requested_size_and_count(spec: Spec, gateway_url: str) -> None:
    body = {
        "model": DEPLOYMENT,
        "prompt": PROMPT,
        "n": 2,
        "size": "1792x1024",
        "quality": "hd",
        "response_format": "b64_json",
    }
    response = generate(spec, gateway_url, body)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    answer = response.json()
    schema = spec.operation.response_schema(200, JSON)
    assert schema is not None
    assert list(spec.operation.validator(schema).iter_errors(answer)) == []
    assert [item["index"] for item in answer["data"]] == [0, 1]
    for item in answer["data"]:
        image = image_of(base64.b64decode(item["b64_json"], validate=True))
        assert (image.format, image.size) == ("PNG", (1792, 1024))
        assert item["revised_prompt"] == PROMPT
    assert (answer["size"], answer["quality"], answer["output_format"]) == (
        "1792x1024",
        "hd",
        "png",
    )
    assert abs(answer["created"] - time.time()) < 60
    assert_usage_adds_up(answer["usage"])


def test_default_format_is_a_served_absolute_url(spec: Spec, gateway_url: str) -> None:
    assert spec.operation.default("response_format") == "url"
    response = generate(
        spec, gateway_url, {"model": DEPLOYMENT, "prompt": PROMPT, "size": "256x256"}
    )
    assert response.status_code == 200
    (item,) = response.json()["data"]
    assert item["url"].startswith(gateway_url + "/")
    fetched = httpx.get(item["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert image_of(fetched.content).size == (256, 256)


@pytest.mark.parametrize("size", ["512x512", "1024x1792", "1536x1024", "auto"])
def test_every_size_is_exact(spec: Spec, gateway_url: str, size: str) -> None:
    body = {"model": DEPLOYMENT, "prompt": PROMPT, "size": size, "response_format": "b64_json"}
    answer = generate(spec, gateway_url, body).json()
    expected = "1024x1024" if size == "auto" else size
    assert answer["size"] == expected
    image = image_of(base64.b64decode(answer["data"][0]["b64_json"]))
    assert "x".join(map(str, image.size)) == expected


@pytest.mark.parametrize(
    ("fields", "kind", "mode", "background"),
    [
        ({"output_format": "jpeg", "output_compression": 80}, "JPEG", "RGB", None),
        ({"output_format": "webp"}, "WEBP", "RGB", None),
        ({"output_format": "png", "background": "transparent"}, "PNG", "RGBA", "transparent"),
        ({"background": "opaque"}, "PNG", "RGB", "opaque"),
    ],
)
def test_openai_extension_fields_take_effect(
    spec: Spec, gateway_url: str, fields: dict[str, Any], kind: str, mode: str, background: Any
) -> None:
    body = {"model": DEPLOYMENT, "prompt": PROMPT, "response_format": "b64_json", **fields}
    answer = generate(spec, gateway_url, body).json()
    image = image_of(base64.b64decode(answer["data"][0]["b64_json"]))
    assert (image.format, image.mode) == (kind, mode)
    assert answer["output_format"] == fields.get("output_format", "png")
    assert answer.get("background") == background


def test_partial_images_sets_the_partial_events(spec: Spec, gateway_url: str) -> None:
    body = {"model": DEPLOYMENT, "prompt": PROMPT, "stream": True, "n": 2, "partial_images": 3}
    events = sse_events(generate(spec, gateway_url, body).text)
    partial = [e["partial_image_index"] for e in events if "partial_image_index" in e]
    assert partial == [0, 1, 2, 0, 1, 2]
    body["partial_images"] = 0
    events = sse_events(generate(spec, gateway_url, body).text)
    assert [e["type"] for e in events] == [COMPLETED, COMPLETED]


def test_jpeg_urls_are_served_as_jpeg(spec: Spec, gateway_url: str) -> None:
    body = {"model": DEPLOYMENT, "prompt": PROMPT, "output_format": "jpeg"}
    (item,) = generate(spec, gateway_url, body).json()["data"]
    fetched = httpx.get(item["url"], timeout=10)
    assert fetched.headers["content-type"] == "image/jpeg"
    assert image_of(fetched.content).format == "JPEG"


def test_integral_float_n_and_unknown_fields_are_valid(spec: Spec, gateway_url: str) -> None:
    body = {"model": DEPLOYMENT, "prompt": PROMPT, "n": 3.0, "x_unknown": {"a": 1}}
    response = generate(spec, gateway_url, body, params={})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 3


def test_empty_prompt_is_answered(spec: Spec, gateway_url: str) -> None:
    response = generate(spec, gateway_url, {"model": DEPLOYMENT, "prompt": ""})
    assert response.status_code == 200
    assert response.json()["usage"]["input_tokens"] == 0


def test_stream_events_are_ordered_and_complete(spec: Spec, gateway_url: str) -> None:
    body = {
        "model": DEPLOYMENT,
        "prompt": PROMPT,
        "n": 2,
        "size": "1024x1536",
        "quality": "standard",
        "stream": True,
        "response_format": "url",
    }
    response = generate(spec, gateway_url, body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SSE)
    assert "event: image_generation.partial_image" in response.text
    events = sse_events(response.text)
    schema = spec.operation.response_schema(200, SSE)
    assert schema is not None
    for event in events:
        assert list(spec.operation.validator(schema).iter_errors(event)) == []
    numbers = [e["sequence_number"] for e in events]
    assert numbers == sorted(set(numbers))
    done = [i for i, e in enumerate(events) if e["type"] == COMPLETED]
    assert len(done) == 2 and done[-1] == len(events) - 1
    assert events[0]["type"] == "image_generation.partial_image"
    for index in done:
        event = events[index]
        assert image_of(base64.b64decode(event["b64_json"])).size == (1024, 1536)
        assert (event["size"], event["quality"], event["output_format"]) == (
            "1024x1536",
            "standard",
            "png",
        )
        assert abs(event["created_at"] - time.time()) < 60
        assert_usage_adds_up(event["usage"])


INVALID_BODIES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "body"),
    ("not-json", b"{not json", "body"),
    ("array", b"[]", "body"),
    ("no-model", json.dumps({"prompt": PROMPT}).encode(), "model"),
    ("no-prompt", json.dumps({"model": DEPLOYMENT}).encode(), "prompt"),
    ("n-fraction", json.dumps({"model": "m", "prompt": "p", "n": 1.5}).encode(), "n"),
    ("n-boolean", json.dumps({"model": "m", "prompt": "p", "n": True}).encode(), "n"),
    ("n-too-big", json.dumps({"model": "m", "prompt": "p", "n": 11}).encode(), "n"),
    ("size-upper", json.dumps({"model": "m", "prompt": "p", "size": "AUTO"}).encode(), "size"),
    (
        "stream-string",
        json.dumps({"model": "m", "prompt": "p", "stream": "yes"}).encode(),
        "stream",
    ),
    ("null", b"null", "body"),
    ("whitespace", b" \n ", "body"),
    ("utf8-bom", b"\xef\xbb\xbf" + json.dumps({"model": "m", "prompt": "p"}).encode(), "body"),
    ("latin-1", '{"model": "m", "prompt": "\u00e9"}'.encode("latin-1"), "body"),
    ("too-deep", b"[" * 100_000 + b"]" * 100_000, "body"),
    (
        "fallback-item",
        json.dumps({"model": "m", "prompt": "p", "fallbacks": ["a", 1]}).encode(),
        "fallbacks.1",
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "param"), INVALID_BODIES, ids=[b[0] for b in INVALID_BODIES]
)
def test_invalid_bodies_get_a_400_envelope(
    spec: Spec, gateway_url: str, name: str, raw: bytes, param: str
) -> None:
    response = httpx.post(
        endpoint(spec, gateway_url), content=raw, headers={"content-type": JSON}, timeout=10
    )
    assert_envelope(spec, response, 400, param)


def test_wrong_content_type_gets_a_400_envelope(spec: Spec, gateway_url: str) -> None:
    raw = json.dumps({"model": DEPLOYMENT, "prompt": PROMPT}).encode()
    response = httpx.post(
        endpoint(spec, gateway_url), content=raw, headers={"content-type": "text/plain"}, timeout=10
    )
    assert_envelope(spec, response, 400, "content-type")
    assert response.json()["extra_fields"]["model_requested"] == DEPLOYMENT


def test_empty_api_version_gets_a_400_envelope(spec: Spec, gateway_url: str) -> None:
    """OpenAPI's allowEmptyValue defaults to false: `?api-version=` is not a valid value."""
    response = generate(
        spec, gateway_url, {"model": DEPLOYMENT, "prompt": PROMPT}, params={"api-version": ""}
    )
    assert_envelope(spec, response, 400, "api-version")


def test_media_type_parameters_are_accepted(spec: Spec, gateway_url: str) -> None:
    raw = json.dumps({"model": DEPLOYMENT, "prompt": PROMPT}).encode()
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    response = httpx.post(endpoint(spec, gateway_url), content=raw, headers=headers, timeout=10)
    assert response.status_code == 200


def gateway_request(spec: Spec, body: Any) -> GatewayRequest:
    raw = json.dumps(body).encode()
    return GatewayRequest(
        op=spec.operation,
        method="POST",
        path=spec.operation.path,
        query={},
        headers={"content-type": JSON},
        raw=raw,
        base_url="http://127.0.0.1",
        body=json.loads(raw),
        parsed=True,
    )


BASE = {"model": DEPLOYMENT, "prompt": PROMPT}
SCHEMA_CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("integral-float-n", {**BASE, "n": 2.0}, []),
    ("unknown-fields", {**BASE, "x_unknown": {"a": [1]}, "seed": 3}, []),
    ("fractional-n", {**BASE, "n": 1.5}, [("n", "type")]),
    ("boolean-n", {**BASE, "n": True}, [("n", "type")]),
    ("string-n", {**BASE, "n": "2"}, [("n", "type")]),
    ("empty-object", {}, [("model", "required"), ("prompt", "required")]),
    (
        "several",
        {"prompt": 1, "n": 11, "size": "AUTO"},
        [("model", "required"), ("n", "maximum"), ("prompt", "type"), ("size", "enum")],
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "expected"), SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES]
)
def test_openapi_core_judges_bodies_by_json_schema_2020_12(
    spec: Spec, name: str, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    validator = validation.SpecRequestValidator(spec)
    issues = validator.issues(gateway_request(spec, body), {"deployment-id": DEPLOYMENT})
    assert [(i.param, i.keyword) for i in issues] == expected
    assert all(i.message and i.code for i in issues)


def test_path_and_query_parameters_are_validated(spec: Spec) -> None:
    validator = validation.SpecRequestValidator(spec)
    req = gateway_request(spec, BASE)
    assert validator.issues(req, {"deployment-id": DEPLOYMENT}) == []
    missing = validator.issues(req, {})
    assert [(i.param, i.keyword, i.code) for i in missing] == [
        ("deployment-id", "required", "missing")
    ]


def test_the_openapi_validator_is_built_once_per_app(
    spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    from_dict = validation.OpenAPI.from_dict

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return from_dict(*args, **kwargs)

    monkeypatch.setattr(validation.OpenAPI, "from_dict", counted)
    with TestClient(create_app(spec)) as client:
        url = endpoint(spec, "")
        statuses = [client.post(url, json={**BASE, "n": n}).status_code for n in (1, 1.5, 2)]
    assert statuses == [200, 400, 200]
    assert len(built) == 1


VALIDATION_FAULTS = [
    ("fractional-n-truncated", {**BASE, "n": 1.5}),
    ("n-above-maximum-clamped", {**BASE, "n": 11}),
    ("uppercase-enum-accepted", {**BASE, "size": "AUTO", "quality": "HD"}),
    ("missing-model-uses-deployment", {"prompt": PROMPT}),
]


@pytest.mark.parametrize(
    ("fault_id", "body"), VALIDATION_FAULTS, ids=[f[0] for f in VALIDATION_FAULTS]
)
def test_validation_faults_rewrite_the_issues(
    spec: Spec, fault_id: str, body: dict[str, Any]
) -> None:
    url = endpoint(spec, "")
    with (
        TestClient(create_app(spec)) as clean,
        TestClient(create_app(spec, FAULTS[fault_id])) as faulty,
    ):
        assert clean.post(url, json=body).status_code == 400
        assert faulty.post(url, json=body).status_code == 200


def test_unknown_route_gets_a_404_envelope(spec: Spec, gateway_url: str) -> None:
    response = httpx.get(gateway_url + "/openai/nothing-here", timeout=10)
    assert response.status_code == 404
    assert response.json()["status_code"] == 404
    assert response.json()["error"]["message"]


def test_encoded_slash_stays_in_the_deployment(spec: Spec, gateway_url: str) -> None:
    url = endpoint(spec, gateway_url, deployment="dall%20e%2F3%25")
    response = httpx.post(url, json={"prompt": PROMPT, "model": "m"}, timeout=10)
    assert response.status_code == 200


def with_fault(spec: Spec, fault_id: str, body: dict[str, Any]) -> httpx.Response:
    with running_gateway(spec, FAULTS[fault_id]) as url:
        return generate(spec, url, body)


def test_corner_fault_acts_only_in_its_region(spec: Spec) -> None:
    base = {"model": DEPLOYMENT, "prompt": PROMPT, "response_format": "b64_json"}
    with running_gateway(spec, "drops-last-image-when-n-ge-2") as url:
        assert len(generate(spec, url, {**base, "n": 1}).json()["data"]) == 1
        assert len(generate(spec, url, {**base, "n": 3}).json()["data"]) == 2


def test_size_fault_changes_only_1024x1792(spec: Spec) -> None:
    base = {"model": DEPLOYMENT, "prompt": PROMPT, "response_format": "b64_json"}
    with running_gateway(spec, "square-image-for-1024x1792") as url:
        for size, pixels in (("1024x1792", (1024, 1024)), ("1792x1024", (1792, 1024))):
            item = generate(spec, url, {**base, "size": size}).json()["data"][0]
            assert image_of(base64.b64decode(item["b64_json"])).size == pixels


def test_hd_stream_fault_sends_an_error_event(spec: Spec) -> None:
    base = {"model": DEPLOYMENT, "prompt": PROMPT, "stream": True}
    with running_gateway(spec, "error-event-for-hd-streams") as url:
        hd = sse_events(generate(spec, url, {**base, "quality": "hd"}).text)
        standard = sse_events(generate(spec, url, {**base, "quality": "standard"}).text)
    assert hd[-1]["type"] == "error"
    assert standard[-1]["type"] == COMPLETED


def test_envelope_faults_rewrite_errors(spec: Spec) -> None:
    response = with_fault(spec, "status-code-200-in-type-errors", {"model": 1, "prompt": "p"})
    assert (response.status_code, response.json()["status_code"]) == (400, 200)
    response = with_fault(spec, "n-above-maximum-clamped", {"model": "m", "prompt": "p", "n": 11})
    assert response.status_code == 200


def test_benign_gzip_is_really_compressed(spec: Spec) -> None:
    with running_gateway(spec, "benign-gzip") as url:
        raw = httpx.post(
            endpoint(spec, url),
            json={"model": DEPLOYMENT, "prompt": PROMPT},
            timeout=10,
            headers={"accept-encoding": "gzip"},
        )
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json()["data"][0]["url"]


def test_catalogue_covers_the_check_ids() -> None:
    from conformance.checks.registry import catalogue

    defects = [f for f in FAULTS.values() if not f.benign]
    assert len(defects) >= 40
    check_ids = {c.id for c in catalogue()}
    assert {f.expected_check for f in defects} == check_ids
    assert all(f.id == f.id.lower() and " " not in f.id and f.summary for f in FAULTS.values())
    assert {f.family for f in FAULTS.values()} >= {
        "protocol",
        "body",
        "images",
        "sse",
        "errors",
        "benign",
        "corners",
    }
    assert resolve_fault("benign-gzip") is FAULTS["benign-gzip"]
    with pytest.raises(KeyError):
        resolve_fault("no-such-fault")


def test_targets_never_import_checks() -> None:
    code = (
        "import sys, conformance.targets.server, conformance.targets.faults;"
        "print(any(m.startswith('conformance.checks') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
