"""The fake upstream imitates the providers: routes, keys, model families, faults, records."""

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

from conformance.spec import Spec
from conformance.targets.upstream import UpstreamSettings, create_upstream_app, parse_markers
from conformance.targets.upstream.markers import Marker, marker

AZURE = "/openai/deployments/{}/images/generations?api-version=2024-02-01"
OPENAI = "/v1/images/generations"
KEY = {"api-key": "upstream-key"}
BEARER = {"authorization": "Bearer upstream-key"}


def client(spec: Spec, **settings: Any) -> TestClient:
    return TestClient(create_upstream_app(spec, UpstreamSettings(**settings)))


def azure(c: TestClient, body: Any, deployment: str = "dall-e-3", **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", KEY)
    return c.post(AZURE.format(deployment), json=body, headers=headers, **kw)


def image(b64: str) -> Image.Image:
    found = Image.open(io.BytesIO(base64.b64decode(b64)))
    found.load()
    return found


def sse(text: str) -> list[dict[str, Any]]:
    blocks = [b for b in text.split("\n\n") if "data:" in b]
    return [json.loads(b.split("data: ", 1)[1]) for b in blocks]


def test_azure_route_answers_real_images_of_the_requested_size(spec: Spec) -> None:
    c = client(spec)
    body = {"prompt": "a fox", "n": 2, "size": "512x512", "response_format": "b64_json"}
    answer = azure(c, body, deployment="any-name")
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert len(data) == 2
    assert {(image(d["b64_json"]).format, image(d["b64_json"]).size) for d in data} == {
        ("PNG", (512, 512))
    }


def test_openai_route_and_url_images_served_by_the_upstream(spec: Spec) -> None:
    c = client(spec)
    answer = c.post(OPENAI, json={"prompt": "a fox", "size": "256x256"}, headers=BEARER)
    assert answer.status_code == 200
    url = answer.json()["data"][0]["url"]
    fetched = c.get(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"


def test_credentials_checked(spec: Spec) -> None:
    c = client(spec)
    assert azure(c, {"prompt": "x"}, headers={}).status_code == 401
    assert c.post(OPENAI, json={"prompt": "x"}, headers=KEY).status_code == 401  # not Bearer
    strict = client(spec, key="right")
    assert azure(strict, {"prompt": "x"}, headers={"api-key": "wrong"}).status_code == 401
    assert azure(strict, {"prompt": "x"}, headers={"api-key": "right"}).status_code == 200
    assert azure(c, {"prompt": "x"}, headers=BEARER).status_code == 200  # Azure takes Bearer


def test_azure_requires_api_version(spec: Spec) -> None:
    c = client(spec)
    answer = c.post("/openai/deployments/d/images/generations", json={"prompt": "x"}, headers=KEY)
    assert answer.status_code == 404 and "error" in answer.json()


def test_default_family_accepts_what_the_spec_allows_and_refuses_the_rest(spec: Spec) -> None:
    c = client(spec)
    every = {
        "model": "m",
        "prompt": "a fox",
        "n": 10,
        "size": "1792x1024",
        "quality": "hd",
        "style": "vivid",
        "response_format": "b64_json",
        "user": "u",
        "fallbacks": ["a"],
        "unknown_field": 1,
    }
    assert azure(c, every).status_code == 200
    refused = azure(c, {"prompt": "x", "n": 11})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "n"
    assert azure(c, {"n": 1}).json()["error"]["code"] == "missing_required_parameter"


def test_output_format_and_transparent_background(spec: Spec) -> None:
    c = client(spec)
    for fmt, pil in (("jpeg", "JPEG"), ("webp", "WEBP")):
        body = {"prompt": "x", "size": "256x256", "response_format": "b64_json"}
        answer = azure(c, {**body, "output_format": fmt}).json()
        assert image(answer["data"][0]["b64_json"]).format == pil
        assert answer["output_format"] == fmt
    clear = azure(c, {"prompt": "x", "response_format": "b64_json", "background": "transparent"})
    assert image(clear.json()["data"][0]["b64_json"]).mode == "RGBA"
    assert clear.json()["background"] == "transparent"


def test_a_transparent_jpeg_is_reported_as_the_opaque_image_it_is(spec: Spec) -> None:
    """A JPEG holds no alpha channel: the answer reports the background the images have."""
    body = {"prompt": "x", "response_format": "b64_json", "background": "transparent"}
    answer = azure(client(spec), {**body, "output_format": "jpeg"}).json()
    assert image(answer["data"][0]["b64_json"]).mode == "RGB"
    assert answer["background"] == "opaque"


def test_dalle3_family(spec: Spec) -> None:
    c = client(spec, model_family="dall-e-3")
    assert azure(c, {"prompt": "x", "n": 2}).status_code == 400
    assert azure(c, {"prompt": "x", "size": "512x512"}).status_code == 400
    assert azure(c, {"prompt": "x", "stream": True}).status_code == 400
    answer = azure(c, {"prompt": "x", "size": "1792x1024"})
    assert answer.status_code == 200
    (item,) = answer.json()["data"]
    assert "url" in item and "content_filter_results" in item
    b64 = azure(c, {"prompt": "x", "response_format": "b64_json"}).json()["data"][0]
    assert image(b64["b64_json"]).size == (1024, 1024)


def test_gpt_image_1_family(spec: Spec) -> None:
    c = client(spec, model_family="gpt-image-1")
    refused = azure(c, {"prompt": "x", "response_format": "b64_json"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unknown_parameter"
    answer = azure(c, {"prompt": "x", "n": 2, "output_format": "webp", "quality": "low"})
    assert answer.status_code == 200
    assert [image(d["b64_json"]).format for d in answer.json()["data"]] == ["WEBP", "WEBP"]
    streamed = azure(c, {"prompt": "x", "stream": True, "partial_images": 2, "size": "1024x1024"})
    kinds = [e["type"] for e in sse(streamed.text)]
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert azure(c, {"prompt": "x", "size": "256x256"}).status_code == 400


def test_markers_parse_and_target_one_model() -> None:
    text = (
        "a fox [[upstream:500@primary]] [[upstream:429=3]] [[upstream:bogus]] [[upstream:pace=0.2]]"
    )
    assert parse_markers(text) == [
        Marker("500", None, "primary"),
        Marker("429", 3.0, None),
        Marker("pace", 0.2, None),
    ]
    assert marker(text, "primary", "dep") == Marker("500", None, "primary")
    assert marker(text, "fallback", "dep") == Marker("429", 3.0, None)
    assert Marker("500", None, "m").text() == "[[upstream:500@m]]"


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("500", 500, "InternalServerError"),
        ("503", 503, "ServiceUnavailable"),
        ("401", 401, "401"),
        ("429", 429, "429"),
        ("content-policy", 400, "content_policy_violation"),
    ],
)
def test_faults_answer_the_providers_error_bodies(
    spec: Spec, fault: str, status: int, code: str
) -> None:
    answer = azure(client(spec), {"prompt": f"x [[upstream:{fault}]]"})
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


def test_429_retry_after_and_content_policy_inner_error(spec: Spec) -> None:
    c = client(spec)
    limited = azure(c, {"prompt": "x [[upstream:429=7]]"})
    assert limited.headers["retry-after"] == "7"
    policy = azure(c, {"prompt": "x [[upstream:content-policy]]"}).json()["error"]
    assert policy["inner_error"]["code"] == "ResponsibleAIPolicyViolation"
    openai = c.post(OPENAI, json={"prompt": "x [[upstream:content-policy]]"}, headers=BEARER)
    assert "inner_error" not in openai.json()["error"]


def test_fault_for_one_model_only(spec: Spec) -> None:
    c = client(spec)
    prompt = "x [[upstream:500@primary]]"
    assert azure(c, {"prompt": prompt, "model": "primary"}, deployment="d").status_code == 500
    assert azure(c, {"prompt": prompt, "model": "other"}, deployment="d").status_code == 200
    assert azure(c, {"prompt": prompt}, deployment="primary").status_code == 500


def test_non_json_slow_and_truncated(spec: Spec) -> None:
    c = client(spec)
    page = azure(c, {"prompt": "x [[upstream:non-json]]"})
    assert page.status_code == 502 and page.headers["content-type"].startswith("text/html")
    started = time.monotonic()
    assert azure(c, {"prompt": "x [[upstream:slow=0.3]]"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    cut = azure(c, {"prompt": "x [[upstream:truncated-stream]]", "stream": True, "n": 2})
    events = sse(cut.text.rsplit("\n\n", 1)[0] + "\n\n")
    assert "image_generation.completed" not in [e["type"] for e in events][2:]
    assert not cut.text.endswith("\n\n")
    broken = azure(c, {"prompt": "x [[upstream:truncated-stream]]", "response_format": "url"})
    with pytest.raises(json.JSONDecodeError):
        broken.json()


def test_streams_are_paced(spec: Spec) -> None:
    c = client(spec, pace_s=0.05)
    prompt = "paced [[upstream:pace=0.1]]"
    answer = azure(c, {"prompt": prompt, "stream": True, "n": 2})
    assert len(sse(answer.text)) == 4
    (record,) = c.get("/_upstream/requests", params={"contains": "paced"}).json()["requests"]
    timing = record["stream"]
    assert timing["events"] == 4 and timing["completed"] is True
    assert timing["last_event_s"] - timing["first_event_s"] >= 0.3 - 0.01


def test_records_hold_every_request_and_clear(spec: Spec) -> None:
    c = client(spec)
    azure(c, {"prompt": "token-abc [[upstream:500]]", "model": "m"}, deployment="dep")
    c.post(OPENAI, content=b"not json", headers=BEARER)
    records = c.get("/_upstream/requests").json()["requests"]
    assert len(records) == 2
    first, second = records
    assert first["path"] == "/openai/deployments/dep/images/generations"
    assert first["query"] == {"api-version": "2024-02-01"}
    assert first["headers"]["api-key"] == "upstream-key"
    assert first["body"] == {"prompt": "token-abc [[upstream:500]]", "model": "m"}
    assert (first["deployment"], first["model"], first["status"]) == ("dep", "m", 500)
    assert first["fault"] == "[[upstream:500]]"
    assert second["body"] is None and second["body_text"] == "not json"
    only = c.get("/_upstream/requests", params={"contains": "token-abc"}).json()["requests"]
    assert [r["seq"] for r in only] == [first["seq"]]
    assert c.delete("/_upstream/requests").json() == {"cleared": 2}
    assert c.get("/_upstream/requests").json()["requests"] == []


def test_cli_prints_the_bound_address_first() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "upstream", "--port", "0", "--key", "k"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                health = httpx.get(url + "/_upstream/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "upstream did not start"
                time.sleep(0.05)
        assert health.json()["ok"] is True
        answer = httpx.post(
            url + OPENAI, json={"prompt": "x"}, headers={"authorization": "Bearer k"}, timeout=10
        )
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_fallback_names_read_strings_and_objects() -> None:
    from conformance.model import fallback_names

    assert fallback_names(["a", 3, "b"]) == ["a", "b"]
    assert fallback_names([{"provider": "openai", "model": "m1"}, {"provider": "x"}]) == ["m1"]
    assert fallback_names("a") == []


def test_a_document_that_declares_partial_images_judges_it_by_its_schema() -> None:
    """`partial_images: 1.0` is an integer to JSON Schema: where the document declares the
    field, the upstream takes it by the schema, not by its own check of undeclared fields."""
    from pathlib import Path

    from conformance.spec import load_spec

    declared = load_spec(Path(__file__).parent / "data" / "openai-style.yaml")
    body = {"prompt": "x", "partial_images": 1.0}
    assert azure(client(declared), body).status_code == 200
    assert azure(client(declared), {**body, "partial_images": 4}).status_code == 400


def test_records_of_a_repeated_body_are_attributed_case_by_case(spec: Spec) -> None:
    """Cases sharing a token are judged in order: the later one's view names the records the
    earlier one was judged with, and judging a case again keeps its own records its own."""
    from conformance.model import Case
    from conformance.run.upstream import UpstreamRecords
    from conformance.targets.upstream.server import running_upstream

    tags = ("upstream", "upstream-token:tk-attrib-01")
    first, again = (
        Case(id=name, kind="positive", title=name, expect="success", body={}, tags=tags)
        for name in ("first", "again")
    )
    body = {"model": "dall-e-3", "prompt": "a lighthouse tk-attrib-01", "n": 1}
    headers = {"authorization": "Bearer k"}
    with (
        running_upstream(spec) as url,
        httpx.Client(base_url=url, timeout=10) as http,
        UpstreamRecords(url, max_calls=1, credential_passes=False) as records,
    ):
        http.post("/v1/images/generations", json=body, headers=headers)
        seen_first = records.view(first)
        http.post("/v1/images/generations", json=body, headers=headers)
        seen_again = records.view(again)
        judged_again = records.view(first)
    assert seen_first is not None and seen_again is not None and judged_again is not None
    assert seen_first.earlier == frozenset() and len(seen_first.records) == 1
    assert seen_again.earlier == {seen_first.records[0]["seq"]} and len(seen_again.records) == 2
    assert seen_first.records[0]["seq"] not in judged_again.earlier
