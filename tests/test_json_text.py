"""A large JSON answer is read once: parsed as it arrives, its long strings held apart, its raw
bytes given back whole whenever it is not JSON."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance import json_text
from conformance.json_text import KEPT_BODY_BYTES, NOT_JSON, parse_json, read_json


def _pieces(raw: bytes, cuts: list[int]) -> Iterator[bytes]:
    """`raw` in chunks cut at the given offsets (multi-byte characters split included)."""
    start = 0
    for cut in sorted({c % (len(raw) + 1) for c in cuts}):
        yield raw[start:cut]
        start = cut
    yield raw[start:]


_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ['"', "\\", '\\"', "é" * 9, "\U0001f600" * 5, "A/B+C=" * 7, "\u2028"]
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(value=_values, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6))
def test_any_json_reads_back_as_json_loads_reads_it(value: object, cuts: list[int]) -> None:
    """With literals lifted from 4 characters on, every string goes through the lifting."""
    raw = json.dumps(value, ensure_ascii=False).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_text, "LIFT_CHARS", 4)
        read = read_json(_pieces(raw, cuts), parse_above=0)
    assert read.parsed and read.problem == ""
    assert read.value == json.loads(raw)
    assert read.size == len(raw)
    assert read.kept == raw[:KEPT_BODY_BYTES]


def test_a_small_body_is_kept_as_it_came_and_parsed_when_asked() -> None:
    raw = b'{"created": 1, "data": []}'
    read = read_json(_pieces(raw, [3, 9]))
    assert not read.parsed and read.kept == raw and read.size == len(raw)


def test_a_large_answer_keeps_its_first_bytes_and_its_whole_value() -> None:
    image = "QUJD" * KEPT_BODY_BYTES
    raw = json.dumps({"created": 1, "data": [{"b64_json": image}, {"b64_json": image}]}).encode()
    read = read_json(_pieces(raw, list(range(0, len(raw), 65536))))
    assert read.parsed and read.value == json.loads(raw)
    assert read.kept == raw[:KEPT_BODY_BYTES] and read.size == len(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"<html>" + b'"x' * KEPT_BODY_BYTES + b"</html>",  # not JSON, an open string at the end
        b'{"a": "' + b"x" * KEPT_BODY_BYTES + b'\xff\xfe"}',  # not UTF-8 inside a long string
        b"\xff" + b'["' + b"y" * KEPT_BODY_BYTES + b'"]',  # not UTF-8 before it
        b'["' + b"z" * KEPT_BODY_BYTES + b'"] trailing',  # trailing data
        b"[" * 70 + b'"' + b"x" * KEPT_BODY_BYTES + b'"' + b"]" * 70,  # too deep to judge
    ],
)
def test_a_large_body_that_is_not_judged_as_json_is_given_back_byte_for_byte(raw: bytes) -> None:
    read = read_json(_pieces(raw, [1, 7, 65536, len(raw) - 3]))
    assert read.parsed and read.value is NOT_JSON
    assert read.kept == raw and read.size == len(raw)


def test_a_multibyte_character_split_across_chunks_after_a_bad_byte_survives() -> None:
    raw = b'{"a": "\xff' + "é".encode() * KEPT_BODY_BYTES + b'"}'
    cuts = list(range(0, len(raw), 4097))  # odd offsets split the two-byte characters
    read = read_json(_pieces(raw, cuts))
    assert read.value is NOT_JSON and read.kept == raw


def test_escapes_in_a_long_string_are_decoded() -> None:
    text = 'a\\/b"\n\u00e9' * (KEPT_BODY_BYTES // 4)
    raw = json.dumps({"b64_json": text}).encode()
    read = read_json(_pieces(raw, list(range(1, len(raw), 999))))
    assert read.value == {"b64_json": text}


def test_a_long_string_is_held_once_while_it_is_read() -> None:
    """The raw body is not kept beside the parsed value: the peak of the read stays well under
    twice the body (tracemalloc counts allocations, not time, so this is exact)."""
    size = 8 * 2**20
    chunk = b"A" * 65536

    def chunks() -> Iterator[bytes]:
        yield b'{"data": [{"b64_json": "'
        for _ in range(size // len(chunk)):
            yield chunk
        yield b'"}]}'

    tracemalloc.start()
    try:
        read = read_json(chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(read.value["data"][0]["b64_json"]) == size
    assert peak < 1.5 * size, f"peak {peak / size:.2f}x the body"


def test_past_the_literal_count_the_text_is_taken_as_it_comes() -> None:
    many = json.dumps(["a"] * (json_text.MAX_JSON_ITEMS + 10)).encode()
    read = read_json(_pieces(many, [65536 * i for i in range(1, 20)]))
    assert read.value is NOT_JSON and "more values" in read.problem and read.kept == many
    wide = {f"k{i}": "v" * (i % 7) for i in range(json_text.MAX_JSON_ITEMS // 2)}
    raw = json.dumps({"data": wide, "tail": "t" * (2 * json_text.LIFT_CHARS)}).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_text, "_MAX_LITERALS", 1000)  # lexing stops before the long tail
        read = read_json(_pieces(raw, [4096 * i for i in range(1, 50)]))
    assert read.value == json.loads(raw)


def test_byte_by_byte_chunks_lift_and_give_back_every_literal() -> None:
    value = {"k\\ey": ["short", 'a long\\" one \u00e9\U0001f600 ' * 3, {"x": "y" * 30}], "n": 1}
    raw = json.dumps(value, ensure_ascii=False).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_text, "LIFT_CHARS", 4)
        read = read_json((raw[i : i + 1] for i in range(len(raw))), parse_above=0)
        broken = read_json((raw[i : i + 1] for i in range(len(raw) - 2)), parse_above=0)
    assert read.value == value and read.kept == raw
    assert broken.value is NOT_JSON and broken.kept == raw[:-2]


def test_large_bodies_read_side_by_side_are_parsed_one_at_a_time() -> None:
    """Workers read their answers at once; the parses (and the values of wide answers they
    build) do not pile up."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    active, most = 0, 0
    guard = threading.Lock()
    real = json_text.parse_json_bounded

    def slow_parse(text: str | bytes) -> tuple[object, str]:
        nonlocal active, most
        with guard:
            active += 1
            most = max(most, active)
        time.sleep(0.05)
        try:
            return real(text)
        finally:
            with guard:
                active -= 1

    raw = json.dumps({"data": [{"b64_json": "QUJD" * KEPT_BODY_BYTES}]}).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_text, "parse_json_bounded", slow_parse)
        with ThreadPoolExecutor(4) as pool:
            reads = list(pool.map(lambda _: read_json(_pieces(raw, [65536])), range(4)))
    assert all(r.value == json.loads(raw) for r in reads)
    assert most == 1


_risky = st.text(st.sampled_from(list('ab"\\/nux0\n\t\x00\x1f é')), max_size=30)


@settings(max_examples=400, deadline=None)
@given(inner=st.lists(_risky, min_size=1, max_size=3), cuts=st.lists(st.integers(0, 200)))
def test_lifted_strings_are_refused_where_json_refuses_them(
    inner: list[str], cuts: list[int]
) -> None:
    """Raw control characters and bad escapes inside long strings make the body not JSON, as
    `json.loads` says, and never an exception."""
    raw = ("[" + ", ".join(f'"{text}"' for text in inner) + "]").encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_text, "LIFT_CHARS", 2)
        patch.setattr(json_text, "_CHECKED_CHARS", 3)  # a control character past a slice's end
        read = read_json(_pieces(raw, cuts), parse_above=0)
    expected = parse_json(raw)
    assert read.value == expected if expected is not NOT_JSON else read.value is NOT_JSON
    if read.value is NOT_JSON:
        assert read.kept == raw
