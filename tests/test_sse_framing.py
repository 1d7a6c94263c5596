"""The WHATWG SSE decoder, fed whole and split at every position."""

from __future__ import annotations

import httpx
import httpx_sse
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.sse_framing import FramedEvent, SSEFraming


def decode(pieces: list[str]) -> list[FramedEvent]:
    framing = SSEFraming()
    events = [event for piece in pieces for event in framing.feed(piece)]
    framing.close()
    return events


STREAM = (
    "\ufeff: heartbeat\r\n"
    "event: image_generation.partial_image\r\n"
    "id: 7\r\n"
    "retry: 1500\r\n"
    'data: {"a":\r\n'
    "data:  1}\r\n"
    "\r\n"
    "data: second\rdata: line\r\r"
    "data: third\n\n"
    "data: [DONE]\n\n"
)


def test_whole_stream() -> None:
    events = decode([STREAM.lstrip("\ufeff")])
    assert events == [
        FramedEvent("image_generation.partial_image", '{"a":\n 1}', "7", 1500),
        FramedEvent("", "second\nline", "7", None),
        FramedEvent("", "third", "7", None),
        FramedEvent("", "[DONE]", "7", None),
    ]


@pytest.mark.parametrize("cut", range(1, len(STREAM) - 1))
def test_split_anywhere_gives_the_same_events(cut: int) -> None:
    text = STREAM.lstrip("\ufeff")
    if cut >= len(text):
        return
    assert decode([text[:cut], text[cut:]]) == decode([text])


def test_one_character_at_a_time() -> None:
    text = STREAM.lstrip("\ufeff")
    assert decode(list(text)) == decode([text])


def test_unterminated_event_is_dropped_and_fields_reset() -> None:
    assert decode(["data: complete\n\n", "data: never dispatched"]) == [
        FramedEvent("", "complete", "", None)
    ]


def test_no_data_no_event_and_bad_fields_ignored() -> None:
    events = decode(["event: x\n\n", "retry: 1a\nid: a\0b\nfoo: bar\ndata:x\n\n"])
    assert events == [FramedEvent("", "x", "", None)]


def test_field_without_colon_and_empty_data_line() -> None:
    assert decode(["data\n\n"]) == [FramedEvent("", "", "", None)]


# -- the same events as httpx-sse, a well-kept decoder, where the two follow the same rules ----
# httpx-sse also dispatches a blank line's event without data once an id was seen, and reads
# `retry` with int(); the streams below stay clear of both (every event carries data, every
# retry is ASCII digits), so any difference is one of framing.

_TEXT = st.text(st.characters(blacklist_characters="\r\n\x00", codec="utf-8"), max_size=12)
_FIELD = st.one_of(
    st.tuples(st.just("event"), _TEXT),
    st.tuples(st.just("id"), _TEXT),
    st.tuples(st.just("retry"), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
    st.tuples(st.just(""), _TEXT),  # a comment line
    st.tuples(st.just("x-unknown"), _TEXT),
)
_EVENT = st.tuples(st.lists(_FIELD, max_size=3), st.lists(_TEXT, min_size=1, max_size=3))


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(_EVENT, min_size=1, max_size=5),
    breaks=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1),
    space=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_events_are_those_httpx_sse_reads(
    events: list[tuple[list[tuple[str, str]], list[str]]],
    breaks: list[str],
    space: bool,
    cuts: list[int],
) -> None:
    lines = []
    for fields, data in events:
        lines += [f"{name}:{' ' if space else ''}{value}" for name, value in fields]
        lines += [f"data:{' ' if space else ''}{value}" for value in data]
        lines.append("")
    text = "".join(line + breaks[i % len(breaks)] for i, line in enumerate(lines))
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, text=text)
    theirs = [(e.event, e.data, e.id, e.retry) for e in httpx_sse.EventSource(response).iter_sse()]
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    ours = [(e.event or "message", e.data, e.id, e.retry) for e in decode(pieces)]
    assert ours == theirs
