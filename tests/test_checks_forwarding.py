"""Two-sided checks on hand-made upstream records: judged only with records, errors when the
records cannot be read, and the edges a gateway may legitimately take."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from exchanges import case, events, exchange, fails, passes, spec

from conformance.checks.registry import ExchangeContext, UpstreamView, catalogue, get
from conformance.model import SHARED_BODY, Exchange, SentRequest
from conformance.plan.upstream import upstream_cases
from conformance.spec import JSON

URL = "http://gw/openai/openai/deployments/dep/images/generations?api-version=2024-10-21"
TOKEN = ("upstream", "upstream-token:cf0001")


def two_sided(body: dict[str, Any] | None = None, fault: str | None = None) -> Any:
    tags = TOKEN + ((f"upstream-fault:{fault}",) if fault else ())
    return case(body, tags=tags)


def sent(ex: Exchange, headers: dict[str, str] | None = None) -> Exchange:
    ex.request = SentRequest("POST", URL, {"content-type": JSON, **(headers or {})}, b"{}")
    return ex


def record(body: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    found = {
        "seq": 1,
        "route": "azure",
        "deployment": "dep",
        "api_version": "2024-10-21",
        "headers": {"api-key": "gateway-key"},
        "body": body,
        "status": 200,
        "stream": None,
    }
    found.update(fields)
    return found


def judge(check_id: str, ex: Exchange, records: list[dict[str, Any]] | None, **view: Any) -> Any:
    upstream = None if records is None else UpstreamView(records, **view)
    ctx = ExchangeContext(
        spec(), spec().operation, ex, lambda url: (None, {}, b"", None), upstream=upstream
    )
    return get(check_id).func(ctx)


def test_not_judged_without_upstream_or_for_other_cases() -> None:
    ex = sent(exchange(case()))
    assert judge("FWD-FIELDS", ex, [record({"model": "dall-e-3"})]) is None  # no token
    assert judge("FWD-FIELDS", sent(exchange(two_sided())), None) is None


def test_unreadable_records_are_an_error_not_a_pass() -> None:
    outcome = judge("FWD-FIELDS", sent(exchange(two_sided())), [], error="ConnectError")
    assert outcome and outcome[0].error


JUDGED_WHEN = {
    "FWD-UNKNOWN-FIELDS": two_sided({"x-extra": 1}),
    "FALLBACK-ORDER": two_sided({"fallbacks": ["f1"]}),
    "FALLBACK-NOT-ON-REFUSAL": two_sided({"fallbacks": ["f1"]}),
    "MAP-UPSTREAM-4XX": two_sided(fault="content-policy"),
    "MAP-UPSTREAM-429": two_sided(fault="429"),
    "MAP-UPSTREAM-5XX": two_sided(fault="500"),
    "STREAM-NOT-BUFFERED": two_sided({"stream": True}),
}
"""A case each two-sided check judges, where a plain two-sided case is not one."""
NOT_JUDGED_WHEN = {
    "FWD-UNKNOWN-FIELDS": two_sided(),
    "FALLBACK-ORDER": two_sided(),
    "FALLBACK-NOT-ON-REFUSAL": two_sided(),
    "MAP-UPSTREAM-4XX": two_sided(),
    "MAP-UPSTREAM-429": two_sided(),
    "MAP-UPSTREAM-5XX": two_sided(),
    "STREAM-NOT-BUFFERED": two_sided(),
    "UPSTREAM-CALLS": two_sided({"fallbacks": ["f1"]}),
}
"""A two-sided case each check leaves alone: its records, even unreadable, are not its to judge."""


@pytest.mark.parametrize("check_id", sorted(c.id for c in catalogue() if c.family == "forwarding"))
def test_every_two_sided_check_reports_unreadable_records_as_its_error(check_id: str) -> None:
    """Records that could not be read are the suite's error on each case a check judges, never
    a pass; on a case it does not judge, it says nothing."""
    c = JUDGED_WHEN.get(check_id, two_sided())
    ex = sent(exchange(c), {"api-key": "client-secret-1"})
    outcome = judge(check_id, ex, [], error="ConnectError")
    assert outcome and all(p.error for p in outcome), outcome
    if check_id in NOT_JUDGED_WHEN:
        alone = sent(exchange(NOT_JUDGED_WHEN[check_id]), {"api-key": "client-secret-1"})
        assert judge(check_id, alone, [], error="ConnectError") is None
    if check_id == "FWD-NO-CLIENT-CREDENTIAL":  # a profile that passes it on: not judged
        assert judge(check_id, ex, [], error="ConnectError", credential_passes=True) is None


def test_fields_dropped_wrapped_changed_and_fallbacks_may_go() -> None:
    c = two_sided({"user": "u", "n": 2, "fallbacks": ["f"]})
    body = {**c.body}
    body.pop("fallbacks")
    assert passes(judge("FWD-FIELDS", sent(exchange(c)), [record(body)]))
    wrapped = {k: v for k, v in body.items() if k != "user"} | {"extra": {"user": "u"}}
    problems = judge("FWD-FIELDS", sent(exchange(c)), [record(wrapped)])
    assert fails(problems) and "wrapped into extra.user" in problems[0].message
    assert fails(judge("FWD-FIELDS", sent(exchange(c)), [record({**body, "n": 1})]))


def test_prompt_and_deployment() -> None:
    c = two_sided()
    ex = sent(exchange(c))
    assert passes(judge("FWD-PROMPT", ex, [record(dict(c.body))]))
    assert fails(judge("FWD-PROMPT", ex, [record({**c.body, "prompt": "other"})]))
    assert passes(judge("FWD-DEPLOYMENT", ex, [record(dict(c.body))]))
    assert fails(judge("FWD-DEPLOYMENT", ex, [record(dict(c.body), deployment="dall-e-3")]))
    assert fails(judge("FWD-DEPLOYMENT", ex, [record({**c.body, "model": "dep"})]))


def test_api_version_and_client_credential() -> None:
    c = two_sided()
    ex = sent(exchange(c), {"api-key": "client-secret-1"})
    assert passes(judge("FWD-API-VERSION", ex, [record(dict(c.body))]))
    assert fails(judge("FWD-API-VERSION", ex, [record(dict(c.body), api_version="2023-05-15")]))
    assert passes(judge("FWD-NO-CLIENT-CREDENTIAL", ex, [record(dict(c.body))]))
    # A profile that sends the api-version as a header (Portkey's) is judged by that header.
    by_header = sent(exchange(c), {"x-portkey-azure-api-version": "2024-10-21"})
    by_header.request.url = URL.split("?")[0]
    assert passes(judge("FWD-API-VERSION", by_header, [record(dict(c.body))]))
    changed = record(dict(c.body), api_version="2023-05-15")
    assert fails(judge("FWD-API-VERSION", by_header, [changed]))
    by_header.request.headers.pop("x-portkey-azure-api-version")
    assert judge("FWD-API-VERSION", by_header, [changed]) is None
    leaked = record(dict(c.body), headers={"authorization": "Bearer client-secret-1"})
    assert fails(judge("FWD-NO-CLIENT-CREDENTIAL", ex, [leaked]))
    assert judge("FWD-NO-CLIENT-CREDENTIAL", ex, [leaked], credential_passes=True) is None


def test_error_mapping() -> None:
    policy = [record({}, status=400, error_code="content_policy_violation")]
    kept = {"error": {"code": "content_policy_violation", "message": "refused"}}
    c = two_sided(fault="content-policy")
    assert passes(judge("MAP-UPSTREAM-4XX", sent(exchange(c, status=400, json_body=kept)), policy))
    lost = {"error": {"code": "upstream_error"}}
    assert fails(judge("MAP-UPSTREAM-4XX", sent(exchange(c, status=400, json_body=lost)), policy))
    assert fails(judge("MAP-UPSTREAM-4XX", sent(exchange(c, status=500, json_body=kept)), policy))
    limited = [record({}, status=429, retry_after="2")]
    answer = exchange(two_sided(fault="429"), status=429, json_body=kept)
    assert fails(judge("MAP-UPSTREAM-429", sent(answer), limited))
    answer.headers["retry-after"] = "2"
    assert passes(judge("MAP-UPSTREAM-429", sent(answer), limited))
    failed = [record({}, status=500)]
    c5 = two_sided(fault="500")
    assert passes(judge("MAP-UPSTREAM-5XX", sent(exchange(c5, status=500, json_body=kept)), failed))
    assert fails(judge("MAP-UPSTREAM-5XX", sent(exchange(c5, status=502, raw=b"<html>")), failed))
    assert fails(judge("MAP-UPSTREAM-5XX", sent(exchange(c5, status=400, json_body=kept)), failed))


def test_fallbacks_in_order_and_calls_bounded() -> None:
    c = two_sided({"fallbacks": ["f1", "f2"]}, fault="fallbacks")
    ex = sent(exchange(c))
    good = [
        record({"model": "dall-e-3"}, status=500),
        record({"model": "f1"}, deployment="f1", status=500),
        record({"model": "f2"}, deployment="f2", status=200),
    ]
    assert passes(judge("FALLBACK-ORDER", ex, good))
    assert fails(judge("FALLBACK-ORDER", ex, [good[0], good[2]]))  # f1 skipped
    assert fails(judge("FALLBACK-ORDER", sent(exchange(c, status=500)), good[:1]))  # not tried
    retried = [good[0], good[0], good[1], good[2]]  # the primary retried once
    assert fails(judge("FALLBACK-ORDER", ex, retried))
    assert passes(judge("FALLBACK-ORDER", ex, retried, max_calls=2))  # declared retries
    assert fails(judge("FALLBACK-ORDER", ex, [good[1], good[0], good[2]]))  # order reversed
    assert fails(judge("FALLBACK-ORDER", ex, good[1:], max_calls=3))  # the primary skipped
    plain = sent(exchange(two_sided()))
    assert passes(judge("UPSTREAM-CALLS", plain, good[2:]))
    assert fails(judge("UPSTREAM-CALLS", plain, good[2:] * 2))
    assert passes(judge("UPSTREAM-CALLS", plain, good[2:] * 2, max_calls=2))
    assert fails(judge("UPSTREAM-CALLS", plain, []))


def test_stream_relayed_or_held() -> None:
    c = two_sided({"stream": True})
    timing = {"events": 4, "first_event_s": 0.3, "last_event_s": 1.0}
    streamed = [record(dict(c.body), stream=timing)]
    relayed = events({"type": "a"}, {"type": "b"})  # arrive at 0.00 s and 0.01 s
    assert passes(judge("STREAM-NOT-BUFFERED", sent(exchange(c, events=relayed)), streamed))
    late = events({"type": "a"}, {"type": "b"})
    for event in late:
        event.t_s += 1.2  # after the upstream's last event, and bunched: held back
    assert fails(judge("STREAM-NOT-BUFFERED", sent(exchange(c, events=late)), streamed))
    slow_start = events({"type": "a"}, {"type": "b"})
    slow_start[0].t_s, slow_start[1].t_s = 1.2, 1.9  # late, but spread as the upstream's
    assert passes(judge("STREAM-NOT-BUFFERED", sent(exchange(c, events=slow_start)), streamed))
    body = sent(exchange(c, json_body={"data": []}))
    assert fails(judge("STREAM-NOT-BUFFERED", body, streamed))


def test_prompt_fidelity_names_where_the_prompt_departs() -> None:
    c = two_sided({"prompt": 'Café 🦊 "q" back\\slash tab\t' + "x" * 3000})
    ex = sent(exchange(c))
    prompt = c.body["prompt"]
    assert passes(judge("FWD-PROMPT", ex, [record(dict(c.body))]))
    cut = judge("FWD-PROMPT", ex, [record({**c.body, "prompt": prompt[:1000]})])
    assert fails(cut) and f"cut to 1000 of {len(prompt)} characters" in cut[0].message
    escaped = prompt.replace("é", "\\u00e9")
    doubled = judge("FWD-PROMPT", ex, [record({**c.body, "prompt": escaped})])
    assert fails(doubled) and "U+00E9" in doubled[0].message


def test_fallbacks_after_a_refusal_are_a_warning_not_an_order_failure() -> None:
    c = two_sided({"fallbacks": ["f1", "f2"]}, fault="content-policy")
    ex = sent(exchange(c, status=400))
    refused = [
        record({"model": "dall-e-3"}, status=400, error_code="content_policy_violation"),
        record({"model": "f1"}, deployment="f1", status=400),
        record({"model": "f2"}, deployment="f2", status=400),
    ]
    assert passes(judge("FALLBACK-NOT-ON-REFUSAL", ex, refused[:1]))
    spent = judge("FALLBACK-NOT-ON-REFUSAL", ex, refused)
    assert fails(spent) and "2 more call(s)" in spent[0].message
    assert passes(judge("FALLBACK-ORDER", ex, refused))  # in order: judged at SHOULD only
    assert passes(judge("FALLBACK-ORDER", ex, refused[:1]))
    failing = [record({"model": "dall-e-3"}, status=500), record({"model": "f1"}, status=200)]
    assert judge("FALLBACK-NOT-ON-REFUSAL", ex, failing) is None


def test_a_body_repeated_for_another_deployment_must_reach_it() -> None:
    c = two_sided({"n": 1})
    repeat = replace(c, tags=(*c.tags, SHARED_BODY))
    ex = sent(exchange(repeat))  # the URL names deployment `dep`
    first = record(dict(c.body), deployment="dall-e-3")
    cached = judge("UPSTREAM-CALLS", ex, [first])
    assert fails(cached) and "a cache answered" in cached[0].message
    assert passes(judge("UPSTREAM-CALLS", ex, [first, record(dict(c.body))]))
    assert passes(judge("FWD-DEPLOYMENT", ex, [first, record(dict(c.body))]))


def test_a_deployment_sent_in_a_header_is_the_one_judged() -> None:
    """A profile whose route has no deployment in its path (Portkey's) names it in a header:
    the repeat for another deployment is judged by that header, not taken for a cache."""
    c = two_sided({"n": 1})
    repeat = replace(c, tags=(*c.tags, SHARED_BODY))
    ex = sent(exchange(repeat), {"x-portkey-azure-deployment-id": "other"})
    ex.request.url = "http://gw/v1/images/generations"
    first, second = record(dict(c.body), deployment="dep"), record(dict(c.body), seq=2)
    second["deployment"] = "other"
    assert passes(judge("UPSTREAM-CALLS", ex, [first, second]))
    assert passes(judge("FWD-DEPLOYMENT", ex, [first, second]))
    cached = judge("UPSTREAM-CALLS", ex, [first])
    assert fails(cached) and "deployment other" in cached[0].message
    plain = sent(exchange(c), {"x-portkey-azure-deployment-id": "other"})
    plain.request.url = ex.request.url
    assert fails(judge("FWD-DEPLOYMENT", plain, [record(dict(c.body), deployment="elsewhere")]))


def test_the_cache_pair_shares_one_body_and_token() -> None:
    cases = {c.id: c for c in upstream_cases(spec().operation, model="m", nonce="n")}
    first, other = cases["upstream-cache-first"], cases["upstream-cache-other"]
    assert first.body == other.body and set(first.tags) < set(other.tags)
    assert other.deployment and other.deployment != first.deployment
    ids = list(cases)
    assert ids.index(other.id) == ids.index(first.id) + 1


def test_unknown_fields_are_forwarded_at_should_level() -> None:
    c = two_sided({"conformance_trace": {"hops": [1, None]}, "user": "u"})
    ex = sent(exchange(c))
    assert passes(judge("FWD-UNKNOWN-FIELDS", ex, [record(dict(c.body))]))
    known = {k: v for k, v in c.body.items() if k != "conformance_trace"}
    dropped = judge("FWD-UNKNOWN-FIELDS", ex, [record(known)])
    assert fails(dropped) and dropped[0].actual == "absent"
    assert passes(judge("FWD-FIELDS", ex, [record(known)]))  # not FWD-FIELDS' (MUST) to judge
    assert judge("FWD-UNKNOWN-FIELDS", sent(exchange(two_sided())), [record({})]) is None


@pytest.mark.parametrize("check_id", ["FALLBACK-ORDER", "FALLBACK-NOT-ON-REFUSAL"])
def test_both_fallback_checks_read_a_case_alike(check_id: str) -> None:
    """Nothing to judge without `fallbacks` or without upstream records; unreadable records
    are the suite's error, never a pass."""
    with_fallbacks = sent(exchange(two_sided({"fallbacks": ["f1"]}, fault="content-policy")))
    refused = [record({"model": "dall-e-3"}, status=400), record({"model": "f1"}, status=400)]
    assert judge(check_id, sent(exchange(two_sided())), refused) is None
    assert judge(check_id, with_fallbacks, None) is None
    unreadable = judge(check_id, with_fallbacks, [], error="ConnectError")
    assert unreadable and all(p.error for p in unreadable)


def test_a_boolean_is_not_a_number_upstream() -> None:
    """`true` forwarded as `1` (or `false` as `0`) is a changed field; `2` as `2.0` is not."""
    c = two_sided({"n": 2, "stream": False, "conformance_flags": {"on": True}})
    body = {**c.body}
    ex = sent(exchange(c))
    assert passes(judge("FWD-FIELDS", ex, [record({**body, "n": 2.0})]))
    assert fails(judge("FWD-FIELDS", ex, [record({**body, "stream": 0})]))
    assert passes(judge("FWD-UNKNOWN-FIELDS", ex, [record(body)]))
    renumbered = {**body, "conformance_flags": {"on": 1}}
    assert fails(judge("FWD-UNKNOWN-FIELDS", ex, [record(renumbered)]))


def test_a_repeated_body_on_a_route_without_deployments_is_told_apart_by_order() -> None:
    """An upstream called on OpenAI's route records no deployment: the repeated body's call is
    the one the first case was not judged with (it was answered before the repeat was sent)."""
    c = two_sided({"n": 1})
    ex = sent(exchange(replace(c, tags=(*c.tags, SHARED_BODY))))
    calls = [record(dict(c.body), seq=seq, route="openai", deployment=None) for seq in (1, 2, 3)]
    assert passes(judge("UPSTREAM-CALLS", ex, calls[:2], earlier=frozenset({1})))
    cached = judge("UPSTREAM-CALLS", ex, calls[:1], earlier=frozenset({1}))
    assert fails(cached) and "a cache answered" in cached[0].message
    # The first case was retried (two calls, both judged with it): the repeat made none.
    assert fails(judge("UPSTREAM-CALLS", ex, calls[:2], earlier=frozenset({1, 2})))
    assert passes(judge("UPSTREAM-CALLS", ex, calls, earlier=frozenset({1, 2})))
