"""A large JSON body is parsed once and then kept only in part; anything else is kept whole."""

from __future__ import annotations

import json

from conformance.model import KEPT_BODY_BYTES, NOT_JSON, Case, Exchange, SentRequest


def _exchange(body: bytes) -> Exchange:
    case = Case(id="c", kind="positive", title="c", expect="success", body={})
    request = SentRequest("POST", "http://127.0.0.1/", {}, b"{}")
    return Exchange(case=case, request=request, status=200, body=body)


def _big_answer() -> bytes:
    image = "QUJD" * (KEPT_BODY_BYTES // 2)
    return json.dumps({"created": 1, "data": [{"b64_json": image}, {"b64_json": image}]}).encode()


def test_a_large_json_body_is_parsed_whole_then_cut_to_its_first_bytes() -> None:
    raw = _big_answer()
    exchange = _exchange(raw)
    assert exchange.body_size == len(raw) > KEPT_BODY_BYTES
    parsed = exchange.json_body
    assert parsed == json.loads(raw)
    assert exchange.body == raw[:KEPT_BODY_BYTES]
    assert exchange.body_size == len(raw)
    assert exchange.json_body is parsed  # parsed once


def test_a_small_body_is_kept_whole() -> None:
    raw = b'{"created": 1, "data": []}'
    exchange = _exchange(raw)
    assert exchange.json_body == {"created": 1, "data": []}
    assert exchange.body == raw and exchange.body_size == len(raw)


def test_a_large_body_that_is_not_json_is_kept_whole() -> None:
    for raw in (b"<html>" + b"x" * KEPT_BODY_BYTES, b"\xff\xfe" + b"x" * KEPT_BODY_BYTES):
        exchange = _exchange(raw)
        assert exchange.json_body is NOT_JSON
        assert exchange.body == raw and exchange.body_size == len(raw)


def test_a_large_body_beyond_the_json_bounds_is_kept_whole() -> None:
    raw = b"[" * 70 + b'"' + b"x" * KEPT_BODY_BYTES + b'"' + b"]" * 70
    exchange = _exchange(raw)
    assert exchange.json_body is NOT_JSON
    assert "deeper" in exchange.json_problem
    assert exchange.body == raw


def _read_json(exchange: Exchange) -> object:
    return exchange.json_body


def test_readers_in_several_threads_all_get_the_parsed_value() -> None:
    from concurrent.futures import ThreadPoolExecutor

    raw = _big_answer()
    for _ in range(5):
        exchange = _exchange(raw)
        with ThreadPoolExecutor(8) as pool:
            values = list(pool.map(_read_json, [exchange] * 8))
        assert all(v is not NOT_JSON and v["created"] == 1 for v in values)
        assert exchange.body_size == len(raw)
