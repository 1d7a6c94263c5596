"""The WHATWG SSE decoder, fed whole and split at every position."""

from __future__ import annotations

import pytest

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
