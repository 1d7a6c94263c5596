"""The client's credential found upstream in any place, in any form, or in part."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from conformance.checks.leaks import credentials, encoded_forms, find_leaks, parts

KEY = "ck-7f3a9c1e5b2d4a60"


def record(**fields: Any) -> dict[str, Any]:
    return {"headers": {"api-key": "gateway-key"}, "query": {}, "body": {"prompt": "p"}, **fields}


def test_credentials_drop_the_scheme_and_skip_short_values() -> None:
    assert credentials({"Authorization": f"Bearer {KEY}", "api-key": "abc"}) == [KEY]
    assert credentials({"content-type": KEY}) == []


def test_every_form_and_place_is_found() -> None:
    b64 = base64.b64encode(KEY.encode()).decode()
    cases = {
        "the x-forwarded-key header": record(headers={"x-forwarded-key": KEY}),
        "the query parameter key": record(query={"key": quote(KEY, safe="")}),
        "the body's user": record(body={"user": b64}),
        "the body's metadata.tags[1]": record(body={"metadata": {"tags": ["a", KEY[-9:]]}}),
        "the body": record(body=None, body_text=f"not json {KEY}"),
    }
    for place, rec in cases.items():
        leaks = find_leaks(KEY, rec, [])
        assert [leak.place for leak in leaks] == [place], (place, leaks)
    assert "base64" in find_leaks(KEY, cases["the body's user"], [])[0].form
    assert set(encoded_forms(KEY)) >= {"the credential", "its base64 form"}


def test_a_clean_call_and_shared_prefixes_are_not_leaks() -> None:
    assert find_leaks(KEY, record(), []) == []
    # The gateway's own key shares the prefix: its header is matched on the whole key only,
    # and a part it holds is no evidence elsewhere either.
    own = record(headers={"authorization": "Bearer ck-7f3a9c1eXXXX"}, body={"note": "ck-7f3a9c1e"})
    assert find_leaks(KEY, own, []) == []
    # A part the client sent itself (in its prompt) proves nothing.
    echoed = record(body={"prompt": "code 7f3a9c1e5b"})
    assert find_leaks(KEY, echoed, ["code 7f3a9c1e5b"]) == []
    assert find_leaks(KEY, echoed, []) != []
    assert parts("short", []) == set()


def test_the_forwarded_credential_header_is_a_leak() -> None:
    leaks = find_leaks(KEY, record(headers={"api-key": KEY}), [])
    assert [(leak.place, leak.form) for leak in leaks] == [("the api-key header", "the credential")]


def test_a_gateway_key_in_a_custom_header_or_query_shares_its_prefix_freely() -> None:
    own = record(
        headers={"ocp-apim-subscription-key": "ck-7f3a9c1eZZZZ"},
        query={"code": "ck-7f3a9c1eYYYY"},
        body={"note": "ck-7f3a9c1e"},
    )
    assert find_leaks(KEY, own, []) == []
    whole = record(headers={"x-goog-api-key": KEY})
    assert [leak.form for leak in find_leaks(KEY, whole, [])] == ["the credential"]


def test_the_key_base64_encoded_inside_a_longer_value_is_found_at_every_alignment() -> None:
    """`Basic base64(user:key)` puts the key at the prefix's byte offset, one of three."""
    for prefix in ("", "u:", "us:", "use:", "user:", "client-user:"):
        blob = base64.b64encode(f"{prefix}{KEY}".encode()).decode()
        leaks = find_leaks(KEY, record(headers={"authorization": f"Basic {blob}"}), [])
        assert [leak.place for leak in leaks] == ["the authorization header"], (prefix, leaks)
        assert "base64" in leaks[0].form
    own = base64.b64encode(b"gateway:ck-7f3a9c1eXXXXXXXXXX").decode()
    assert find_leaks(KEY, record(headers={"authorization": f"Basic {own}"}), []) == []
