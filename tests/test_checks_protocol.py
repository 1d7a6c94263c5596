"""Protocol checks: complete answers, no 5xx, declared statuses and media types, JSON parses."""

from __future__ import annotations

import pytest
from exchanges import case, exchange, fails, image_body, image_stream, passes, run


@pytest.mark.parametrize(
    "kind", ["timeout", "reset", "protocol", "decoding", "body-too-large", "deadline"]
)
def test_responds_fails_on_incomplete_answers(kind: str) -> None:
    outcome = run("PROTO-RESPONDS", exchange(transport_error=kind, detail="cut"))
    assert fails(outcome)
    assert kind in outcome[0].message and outcome[0].message.startswith("expected")


def test_responds_passes_complete_and_skips_unreachable() -> None:
    assert passes(run("PROTO-RESPONDS", exchange(json_body=image_body())))
    assert run("PROTO-RESPONDS", exchange(status=None, transport_error="connect")) is None


def test_no_5xx() -> None:
    assert passes(run("PROTO-NO-5XX", exchange(status=400, json_body={"error": {}})))
    rejected = case({"n": 0}, expect="reject", rule="n minimum")
    outcome = run("PROTO-NO-5XX", exchange(rejected, status=502, json_body={}))
    assert fails(outcome) and outcome[0].actual == "502"


def test_status_declared() -> None:
    assert passes(run("PROTO-STATUS-DECLARED", exchange(status=400, json_body={})))
    outcome = run("PROTO-STATUS-DECLARED", exchange(status=422, json_body={}))
    assert fails(outcome) and "422" in outcome[0].message
    for environment in (401, 403, 429):
        assert run("PROTO-STATUS-DECLARED", exchange(status=environment, json_body={})) is None


def test_status_declared_leaves_provoked_upstream_failures_to_the_mapping_checks() -> None:
    provoked = case({"prompt": "x [[upstream:500]]"}, tags=("upstream-fault:500",))
    assert run("PROTO-STATUS-DECLARED", exchange(provoked, status=502, json_body={})) is None
    assert fails(run("PROTO-STATUS-DECLARED", exchange(status=502, json_body={})))


def test_status_documented_judges_outcomes_at_must() -> None:
    rejected = case({"size": "HD"}, expect="reject", rule="enum:size")
    assert passes(run("PROTO-STATUS-DOCUMENTED", exchange(rejected, status=400, json_body={})))
    for status in (422, 415):
        outcome = run("PROTO-STATUS-DOCUMENTED", exchange(rejected, status=status, json_body={}))
        assert fails(outcome) and outcome[0].actual == str(status)
        assert run("PROTO-STATUS-DECLARED", exchange(rejected, status=status, json_body={})) is None
    assert passes(run("PROTO-STATUS-DOCUMENTED", exchange(json_body=image_body())))
    for status in (201, 202):
        outcome = run("PROTO-STATUS-DOCUMENTED", exchange(status=status, json_body=image_body()))
        assert fails(outcome) and outcome[0].expected == "200"


def test_status_documented_leaves_other_statuses_alone() -> None:
    rejected = case({"size": "HD"}, expect="reject", rule="enum:size")
    assert run("PROTO-STATUS-DOCUMENTED", exchange(status=422, json_body={})) is None  # valid
    assert run("PROTO-STATUS-DOCUMENTED", exchange(rejected, status=429, json_body={})) is None
    assert run("PROTO-STATUS-DOCUMENTED", exchange(rejected, status=200, json_body={})) is None


def test_content_type_allows_parameters_and_flags_undeclared_types() -> None:
    ok = exchange(json_body=image_body(), content_type="application/json; charset=utf-8")
    assert passes(run("PROTO-CONTENT-TYPE", ok))
    outcome = run("PROTO-CONTENT-TYPE", exchange(json_body=image_body(), content_type="text/plain"))
    assert fails(outcome) and outcome[0].actual == "text/plain"


def test_content_type_stream_for_non_streamed_request_fails() -> None:
    assert fails(run("PROTO-CONTENT-TYPE", exchange(events=image_stream())))


def test_content_type_leaves_valid_streams_to_sse_family() -> None:
    streamed = case({"stream": True})
    assert run("PROTO-CONTENT-TYPE", exchange(streamed, json_body=image_body())) is None
    rejected = exchange(streamed, status=400, json_body={}, content_type="text/html")
    assert fails(run("PROTO-CONTENT-TYPE", rejected))


def test_body_parses() -> None:
    assert passes(run("PROTO-BODY-PARSES", exchange(json_body=image_body())))
    outcome = run("PROTO-BODY-PARSES", exchange(raw=b'{"data": [', content_type="application/json"))
    assert fails(outcome)
    latin1 = exchange(raw='{"error": "caf\xe9"}'.encode("latin-1"), content_type="application/json")
    assert fails(run("PROTO-BODY-PARSES", latin1))
    assert run("PROTO-BODY-PARSES", exchange(raw=b"<html>", content_type="text/html")) is None
