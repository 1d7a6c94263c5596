"""Server-Sent-Events framing as the WHATWG HTML standard defines it, fed incrementally.

The client reads a stream in bounded byte chunks and needs each event the moment its blank line
arrives (to time it and to stop a stream that outlives its last image). This decoder takes text
as it comes and yields complete events; it holds only the current line and event in memory.

Rules (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in CRLF, LF or CR; a line starting with ':' is a comment; `field: value` drops one
leading space of the value; `data` lines are joined with LF; `id` without NUL sets the last
event id (kept across events); `retry` takes ASCII digits only; unknown fields are ignored; a
blank line dispatches the event unless its data buffer is empty.

Why not httpx-sse at run time: it reads whole lines from the response, so a line the gateway
never ends is held without a bound, and it dispatches an event without data once an id was
seen, which the standard does not. The tests hold this decoder to httpx-sse's events wherever
the two follow the same rules (`tests/test_sse_framing.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class FramedEvent:
    event: str
    data: str
    id: str
    retry: int | None


class SSEFraming:
    """Incremental decoder: `feed(text)` yields the events completed by `text`."""

    def __init__(self) -> None:
        self._line: list[str] = []
        self._pending_cr = False
        self._event = ""
        self._data: list[str] = []
        self._last_id = ""
        self._retry: int | None = None

    def feed(self, text: str) -> Iterator[FramedEvent]:
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split between two pieces
        self._pending_cr = False
        pos, size = 0, len(text)
        while pos < size:
            found = _LINE_BREAK.search(text, pos)
            if found is None:
                self._line.append(text[pos:])
                break
            end = found.start()
            self._line.append(text[pos:end])
            event = self._line_done()
            if event is not None:
                yield event
            if text[end] == "\r":
                if end + 1 == size:
                    self._pending_cr = True
                elif text[end + 1] == "\n":
                    end += 1
            pos = end + 1

    def close(self) -> None:
        """End of stream: an unterminated last line is processed; an undispatched event is
        discarded, as the standard says."""
        if self._line:
            self._line_done()
        self._event, self._data, self._retry = "", [], None

    def _line_done(self) -> FramedEvent | None:
        line = "".join(self._line)
        self._line = []
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> FramedEvent | None:
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry = [], "", None
        if not data:
            return None
        return FramedEvent(event=event, data="\n".join(data), id=self._last_id, retry=retry)
