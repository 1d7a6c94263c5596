"""Checks of acceptance and rejection, and of the error envelope."""

from __future__ import annotations

from typing import Any

import pytest
from exchanges import case, exchange, fails, image_body, passes, run

from conformance.model import TRAILING_DATA, UPSTREAM_FAULT_PREFIX, Case

REJECT = {"expect": "reject", "kind": "negative", "rule": "n maximum"}


def envelope(status: int = 400, message: str = "n must be at most 10", **extra: Any) -> Any:
    return {
        "is_bifrost_error": False,
        "status_code": status,
        "error": {"type": "invalid_request_error", "message": message},
        "extra_fields": {"provider": "azure", "model_requested": "dall-e-3"},
        **extra,
    }


def test_negative_4xx() -> None:
    rejected = case({"n": 11}, **REJECT)
    assert passes(run("ERR-NEGATIVE-4XX", exchange(rejected, status=400, json_body=envelope())))
    for status in (200, 500):
        outcome = run("ERR-NEGATIVE-4XX", exchange(rejected, status=status, json_body={}))
        assert fails(outcome) and "n maximum" in outcome[0].message
    assert run("ERR-NEGATIVE-4XX", exchange(rejected, status=429, json_body={})) is None


def test_valid_accepted() -> None:
    assert passes(run("ERR-VALID-ACCEPTED", exchange(json_body=image_body())))
    outcome = run("ERR-VALID-ACCEPTED", exchange(status=400, json_body=envelope(message="nope")))
    assert fails(outcome) and "nope" in outcome[0].message
    assert run("ERR-VALID-ACCEPTED", exchange(status=403, json_body={})) is None


@pytest.mark.parametrize("body", [{"prompt": ""}, {"stream": True, "response_format": "b64_json"}])
def test_valid_accepted_honours_the_rulings(body: dict[str, Any]) -> None:
    assert passes(run("ERR-VALID-ACCEPTED", exchange(case(body), status=400, json_body=envelope())))
    assert fails(run("ERR-VALID-ACCEPTED", exchange(case(), status=400, json_body=envelope())))


def test_envelope_schema() -> None:
    assert passes(run("ERR-ENVELOPE-SCHEMA", exchange(status=400, json_body=envelope())))
    unknown = envelope(extra_fields={"provider": "acme-ai"})
    outcome = run("ERR-ENVELOPE-SCHEMA", exchange(status=400, json_body=unknown))
    assert fails(outcome) and "provider" in outcome[0].message
    wrong_type = envelope(status_code="400")
    assert fails(run("ERR-ENVELOPE-SCHEMA", exchange(status=400, json_body=wrong_type)))
    assert fails(run("ERR-ENVELOPE-SCHEMA", exchange(status=502, json_body={"error": "down"})))


def test_status_code_match() -> None:
    assert passes(run("ERR-STATUS-CODE-MATCH", exchange(status=400, json_body=envelope(400))))
    outcome = run("ERR-STATUS-CODE-MATCH", exchange(status=400, json_body=envelope(500)))
    assert fails(outcome) and outcome[0].expected == "400" and outcome[0].actual == "500"
    no_code = {"error": {"message": "x"}}
    assert run("ERR-STATUS-CODE-MATCH", exchange(status=400, json_body=no_code)) is None


def test_message() -> None:
    assert passes(run("ERR-MESSAGE", exchange(status=400, json_body=envelope())))
    assert fails(run("ERR-MESSAGE", exchange(status=400, json_body=envelope(message=""))))
    assert fails(run("ERR-MESSAGE", exchange(status=400, json_body={"status_code": 400})))
    assert fails(run("ERR-MESSAGE", exchange(status=500, raw=b"oops", content_type="text/plain")))
    assert run("ERR-MESSAGE", exchange(json_body=image_body())) is None


def test_unknown_fields_accepted() -> None:
    extra = case({"x_trace": "abc"}, tags=("unknown-fields",))
    assert passes(run("ERR-UNKNOWN-FIELDS-ACCEPTED", exchange(extra, json_body=image_body())))
    rejected = exchange(extra, status=400, json_body=envelope())
    assert fails(run("ERR-UNKNOWN-FIELDS-ACCEPTED", rejected))
    assert run("ERR-VALID-ACCEPTED", rejected) is None  # a SHOULD matter, never a MUST failure
    assert run("ERR-UNKNOWN-FIELDS-ACCEPTED", exchange(json_body=image_body())) is None
    # an upstream refusal the suite provoked is the MAP- checks' to judge, not a rejection
    provoked = case({"x_trace": "abc"}, tags=("unknown-fields", f"{UPSTREAM_FAULT_PREFIX}400"))
    refused = exchange(provoked, status=400, json_body=envelope())
    assert run("ERR-UNKNOWN-FIELDS-ACCEPTED", refused) is None


def test_empty_prompt_is_an_observation() -> None:
    empty = case({"prompt": ""})
    assert passes(run("ERR-EMPTY-PROMPT", exchange(empty, json_body=image_body())))
    assert passes(run("ERR-EMPTY-PROMPT", exchange(empty, status=400, json_body=envelope())))
    outcome = run("ERR-EMPTY-PROMPT", exchange(empty, status=422, json_body=envelope()))
    assert fails(outcome) and outcome[0].actual == "422"
    assert run("ERR-EMPTY-PROMPT", exchange(json_body=image_body())) is None


@pytest.mark.parametrize("body", [{"prompt": ""}, {"stream": True, "response_format": "b64_json"}])
def test_ruled_rejection_with_another_4xx_is_left_to_the_status_checks(
    body: dict[str, Any],
) -> None:
    unprocessable = exchange(case(body), status=422, json_body={"detail": "invalid"})
    assert passes(run("ERR-VALID-ACCEPTED", unprocessable))
    assert fails(run("PROTO-STATUS-DECLARED", unprocessable))
    ordinary = exchange(case({"n": 2}), status=422, json_body={"detail": "invalid"})
    assert fails(run("ERR-VALID-ACCEPTED", ordinary))


def test_empty_prompt_422_is_an_observation_not_a_must() -> None:
    empty = exchange(case({"prompt": ""}), status=422, json_body=envelope(422))
    assert passes(run("ERR-VALID-ACCEPTED", empty))
    assert fails(run("ERR-EMPTY-PROMPT", empty))


def test_negative_4xx_says_clamped_when_the_nearest_count_came_back() -> None:
    above = case({"n": 11}, expect="reject", kind="negative", rule="maximum:n")
    outcome = run("ERR-NEGATIVE-4XX", exchange(above, json_body=image_body(n=10)))
    assert fails(outcome) and "n clamped to 10" in outcome[0].message
    below = case({"n": 0}, expect="reject", kind="negative", rule="minimum:n")
    outcome = run("ERR-NEGATIVE-4XX", exchange(below, json_body=image_body(n=1)))
    assert fails(outcome) and "n clamped to 1" in outcome[0].message
    outcome = run("ERR-NEGATIVE-4XX", exchange(above, json_body=image_body(n=3)))
    assert fails(outcome) and "clamped" not in outcome[0].message


def with_param(param: Any, rule: str = "type:n") -> Any:
    broken = case({"n": "1"}, expect="reject", kind="negative", rule=rule)
    body = envelope()
    body["error"]["param"] = param
    return exchange(broken, status=400, json_body=body)


def test_param_names_the_broken_field_in_any_common_notation() -> None:
    for param in ("n", "/n", "#/n", "body.n", "$.n"):
        assert passes(run("ERR-PARAM-NAMES-FIELD", with_param(param))), param
    for param in ("fallbacks.0", "/fallbacks/0", "fallbacks[0]"):
        assert passes(run("ERR-PARAM-NAMES-FIELD", with_param(param, "items:fallbacks"))), param
    outcome = run("ERR-PARAM-NAMES-FIELD", with_param("prompt"))
    assert fails(outcome) and outcome[0].expected == "n" and outcome[0].actual == "prompt"
    assert fails(run("ERR-PARAM-NAMES-FIELD", with_param("/nn")))
    assert run("ERR-PARAM-NAMES-FIELD", with_param(None)) is None  # absent: optional
    for whole in ("", "body", "/"):
        assert run("ERR-PARAM-NAMES-FIELD", with_param(whole)) is None, whole  # names no field
    assert run("ERR-PARAM-NAMES-FIELD", with_param("body", "body:json")) is None
    valid = exchange(status=400, json_body=envelope())
    assert run("ERR-PARAM-NAMES-FIELD", valid) is None


def test_model_requested_is_the_model_sent() -> None:
    rejected = case({"n": 11}, **REJECT)
    assert passes(run("ERR-MODEL-REQUESTED", exchange(rejected, status=400, json_body=envelope())))
    body = envelope()
    body["extra_fields"]["model_requested"] = "azure/dall-e-3"
    outcome = run("ERR-MODEL-REQUESTED", exchange(rejected, status=400, json_body=body))
    assert fails(outcome) and outcome[0].actual == "azure/dall-e-3"
    no_model = Case(id="c", kind="negative", title="t", expect="reject", body={"prompt": "p"})
    assert run("ERR-MODEL-REQUESTED", exchange(no_model, status=400, json_body=body)) is None
    del body["extra_fields"]["model_requested"]
    assert run("ERR-MODEL-REQUESTED", exchange(rejected, status=400, json_body=body)) is None


def test_model_requested_in_successes_too() -> None:
    sent = case({"model": "dall-e-3"})
    echoed = {**image_body(), "extra_fields": {"model_requested": "dall-e-3"}}
    assert passes(run("ERR-MODEL-REQUESTED", exchange(sent, json_body=echoed)))
    other = {**image_body(), "extra_fields": {"model_requested": "azure/dall-e-3"}}
    outcome = run("ERR-MODEL-REQUESTED", exchange(sent, json_body=other))
    assert fails(outcome) and outcome[0].expected == "dall-e-3"
    assert run("ERR-MODEL-REQUESTED", exchange(sent, json_body=image_body())) is None


def test_trailing_data_is_judged_at_should_level_alone() -> None:
    trailing = Case(
        id="t",
        kind="negative",
        title="t",
        expect="reject",
        raw_body=b'{"prompt": "p"} junk',
        rule="body:trailing",
        tags=(TRAILING_DATA,),
    )
    accepted = exchange(trailing, json_body=image_body())
    outcome = run("ERR-TRAILING-DATA", accepted)
    assert fails(outcome) and outcome[0].actual == "200"
    assert run("ERR-NEGATIVE-4XX", accepted) is None
    assert passes(run("ERR-TRAILING-DATA", exchange(trailing, status=400, json_body={})))
    assert run("ERR-TRAILING-DATA", exchange(case({"n": 0}, **REJECT), status=200)) is None
