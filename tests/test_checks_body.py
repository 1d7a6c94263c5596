"""Checks of the 200 JSON body, and that they follow edits of the spec."""

from __future__ import annotations

import copy
import time
from typing import Any

from exchanges import b64, case, exchange, fails, image_body, passes, run, spec

from conformance.model import PROVIDER_USAGE
from conformance.spec import Spec, spec_from_dict


def with_body(body: Any, **request: Any) -> Any:
    return exchange(case(request or None), json_body=body)


def test_json_schema() -> None:
    assert passes(run("IMG-JSON-SCHEMA", with_body(image_body(extra_field={"any": 1}))))
    broken = image_body()
    broken["data"][0]["revised_prompt"] = None
    outcome = run("IMG-JSON-SCHEMA", with_body(broken))
    assert fails(outcome) and "revised_prompt" in outcome[0].message
    assert fails(run("IMG-JSON-SCHEMA", with_body({"created": "yesterday", "data": []})))


def test_count() -> None:
    assert passes(run("IMG-COUNT", with_body(image_body(n=3), n=3)))
    outcome = run("IMG-COUNT", with_body(image_body(n=1), n=2))
    assert fails(outcome) and outcome[0].expected == "2" and outcome[0].actual == "1"
    assert fails(run("IMG-COUNT", with_body({"created": int(time.time())})))
    assert run("IMG-COUNT", exchange(case(expect="reject"), json_body=image_body())) is None


def test_format_follows_request_and_spec_default() -> None:
    assert passes(run("IMG-FORMAT", with_body(image_body(), response_format="b64_json")))
    assert fails(run("IMG-FORMAT", with_body(image_body())))  # spec default is url
    url_body = {"data": [{"url": "https://img.example/1.png"}]}
    assert passes(run("IMG-FORMAT", with_body(url_body)))
    assert fails(run("IMG-FORMAT", with_body(url_body, response_format="b64_json")))


def test_index() -> None:
    assert passes(run("IMG-INDEX", with_body(image_body(n=2), n=2)))
    repeated = image_body(n=2)
    repeated["data"][1]["index"] = 0
    assert fails(run("IMG-INDEX", with_body(repeated, n=2)))
    out_of_range = image_body(n=1)
    out_of_range["data"][0]["index"] = 1
    assert fails(run("IMG-INDEX", with_body(out_of_range)))
    assert run("IMG-INDEX", with_body({"data": [{"b64_json": b64(8, 8)}]})) is None


def test_created_present_and_seconds() -> None:
    body = image_body()
    assert passes(run("IMG-CREATED-PRESENT", with_body(body)))
    assert passes(run("IMG-CREATED-SECONDS", with_body(body)))
    missing = {k: v for k, v in body.items() if k != "created"}
    assert fails(run("IMG-CREATED-PRESENT", with_body(missing)))
    millis = {**body, "created": int(time.time() * 1000)}
    outcome = run("IMG-CREATED-SECONDS", with_body(millis))
    assert fails(outcome) and "milliseconds" in outcome[0].message
    assert fails(run("IMG-CREATED-SECONDS", with_body({**body, "created": 86_400})))


def test_usage_sum() -> None:
    usage = {
        "input_tokens": 50,
        "output_tokens": 4000,
        "total_tokens": 4050,
        "input_tokens_details": {"text_tokens": 40, "image_tokens": 10},
    }
    assert passes(run("IMG-USAGE-SUM", with_body(image_body(usage=usage))))
    assert passes(
        run(
            "IMG-USAGE-SUM",
            with_body(image_body(usage={**usage, "input_tokens_details": {"text_tokens": 50}})),
        )
    )
    outcome = run("IMG-USAGE-SUM", with_body(image_body(usage={**usage, "total_tokens": 4000})))
    assert fails(outcome) and outcome[0].expected == "4050"
    bad_details = {**usage, "input_tokens_details": {"text_tokens": 40, "image_tokens": 5}}
    assert fails(run("IMG-USAGE-SUM", with_body(image_body(usage=bad_details))))
    partial_too_big = {**usage, "input_tokens_details": {"text_tokens": 60}}
    assert fails(run("IMG-USAGE-SUM", with_body(image_body(usage=partial_too_big))))
    assert run("IMG-USAGE-SUM", with_body(image_body())) is None


def test_echo() -> None:
    assert passes(run("IMG-ECHO", with_body(image_body(size="512x512"), size="512x512")))
    outcome = run("IMG-ECHO", with_body(image_body(size="512x512"), size="1024x1024"))
    assert fails(outcome) and outcome[0].actual == "512x512"
    assert passes(run("IMG-ECHO", with_body(image_body(size="1792x1024"), size="auto")))
    assert fails(run("IMG-ECHO", with_body(image_body(size="1000x1000"), size="auto")))
    quality = with_body(image_body(quality="standard"), size="1024x1024", quality="hd")
    assert fails(run("IMG-ECHO", quality))
    assert run("IMG-ECHO", with_body({"data": []})) is None


def edited(change: Any) -> Spec:
    raw = copy.deepcopy(spec().raw)
    change(raw["paths"]["/openai/openai/deployments/{deployment-id}/images/generations"]["post"])
    return spec_from_dict(raw)


def test_echo_follows_the_size_enum_of_the_spec() -> None:
    auto = with_body(image_body(size="1792x1024"), size="auto")
    assert passes(run("IMG-ECHO", auto))

    def drop_size(op: dict[str, Any]) -> None:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        schema["properties"]["size"]["enum"].remove("1792x1024")

    assert fails(run("IMG-ECHO", auto, on=edited(drop_size)))


def test_json_schema_follows_the_response_schema_of_the_spec() -> None:
    body = image_body(background="transparent")
    assert passes(run("IMG-JSON-SCHEMA", with_body(body)))

    def restrict_background(op: dict[str, Any]) -> None:
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        schema["properties"]["background"]["enum"] = ["opaque"]

    outcome = run("IMG-JSON-SCHEMA", with_body(body), on=edited(restrict_background))
    assert fails(outcome) and "background" in outcome[0].message


def test_created_may_be_old_but_not_future_or_zero() -> None:
    body = image_body()
    cached = {**body, "created": int(time.time()) - 30 * 86_400}  # a replayed cached answer
    assert passes(run("IMG-CREATED-SECONDS", with_body(cached)))
    ahead = {**body, "created": int(time.time()) + 3 * 86_400}
    assert fails(run("IMG-CREATED-SECONDS", with_body(ahead)))
    assert fails(run("IMG-CREATED-SECONDS", with_body({**body, "created": 0})))
    micros = {**body, "created": int(time.time() * 1_000_000)}
    assert fails(run("IMG-CREATED-SECONDS", with_body(micros)))


def test_quality_echo_in_a_provider_vocabulary_is_not_compared() -> None:
    sized = {"size": "1024x1024", "quality": "hd"}
    assert passes(run("IMG-ECHO", with_body(image_body(quality="high"), **sized)))
    assert run("IMG-ECHO", with_body({"data": [], "quality": "high"}, quality="hd")) is None
    outcome = run("IMG-ECHO", with_body({"data": [], "quality": "standard"}, quality="hd"))
    assert fails(outcome) and outcome[0].actual == "standard"
    assert passes(run("IMG-ECHO", with_body({"data": [], "quality": "hd"}, quality="hd")))


def test_a_providers_odd_usage_may_be_passed_on() -> None:
    odd = {**image_body(), "usage": {"input_tokens": 12.5, "total_tokens": 3}}
    assert fails(run("IMG-JSON-SCHEMA", exchange(json_body=odd)))
    passed_on = case({"prompt": "p"}, tags=("upstream", PROVIDER_USAGE))
    assert passes(run("IMG-JSON-SCHEMA", exchange(passed_on, json_body=odd)))
    assert run("IMG-USAGE-SUM", exchange(passed_on, json_body=odd)) is None
    assert fails(run("IMG-JSON-SCHEMA", exchange(passed_on, json_body={**odd, "created": "x"})))
