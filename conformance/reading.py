"""Reading an answer within bounds: its bytes, a JSON body, or Server-Sent Events.

Each read undoes the content-encodings incrementally, counts raw and decoded bytes against
`Bounds.max_body_bytes`, measures the gaps between reads and checks the request's deadline
after every chunk; a bound reached raises `Cut`, which the client turns into the exchange's
transport error.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterator

import httpx

from conformance.config import Bounds
from conformance.decoding import BoundedDecoder, DecodeError, encodings
from conformance.json_text import ReadBody, lex_json
from conformance.model import Exchange, StreamEvent
from conformance.model import TransportErrorKind as Kind
from conformance.sse_framing import FramedEvent, SSEFraming
from conformance.watchdog import Cut, Watchdog

StreamEnd = Callable[[StreamEvent], bool]


def read_body(
    response: httpx.Response, watchdog: Watchdog, bounds: Bounds
) -> Callable[[], ReadBody]:
    """The body, read once (a large JSON answer lexed as it arrives, so that it is never held
    twice), and its parse, left to run once the request is over (`lex_json`)."""
    return lex_json(_bounded(response, watchdog, bounds.max_body_bytes))


def read_bytes(response: httpx.Response, watchdog: Watchdog, bounds: Bounds) -> bytes:
    """The body's bytes (an image), grown in one buffer."""
    body = bytearray()
    for chunk in _bounded(response, watchdog, bounds.max_body_bytes):
        body += chunk
    return bytes(body)


def read_events(
    response: httpx.Response,
    exchange: Exchange,
    started: float,
    watchdog: Watchdog,
    bounds: Bounds,
    ended: tuple[StreamEnd, float] | None,
) -> None:
    """The stream's events into `exchange.events`, each with its arrival time. `ended`: the
    test that an event is the stream's last expected one, and the grace the stream then has
    before it is cut (`LINGER`)."""
    assert exchange.events is not None
    framing = SSEFraming()
    # "utf-8-sig": a leading byte-order mark is dropped, as the WHATWG stream rules say.
    text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    limit = bounds.max_body_bytes
    for chunk in _bounded(response, watchdog, limit, f"stream exceeded {limit} bytes; cut"):
        for framed in framing.feed(text.decode(chunk)) if chunk else ():
            event = _take(framed, exchange, started, bounds)
            if event is None or ended is None or watchdog.ended_at is not None:
                continue
            last, grace = ended
            if last(event):
                watchdog.stream_ended(grace)
    for framed in framing.feed(text.decode(b"", final=True)):
        _take(framed, exchange, started, bounds)
    framing.close()


def flat_headers(headers: httpx.Headers) -> dict[str, str]:
    """Headers with lower-case names, repeated ones joined by ", " (RFC 9110)."""
    flat: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        flat[key] = f"{flat[key]}, {value}" if key in flat else value
    return flat


def _bounded(
    response: httpx.Response, watchdog: Watchdog, limit: int, too_large: str = ""
) -> Iterator[bytes]:
    """The decoded chunks, cut at `limit` bytes and at the request's deadline."""
    size = 0
    for chunk in _decoded(response, watchdog, limit):
        size += len(chunk)
        if size > limit:
            detail = too_large or f"body exceeded {limit} bytes; read stopped"
            raise Cut(Kind.BODY_TOO_LARGE, detail)
        yield chunk
        if watchdog.overdue():
            raise watchdog.cut()


def _decoded(response: httpx.Response, watchdog: Watchdog, limit: int) -> Iterator[bytes]:
    """The body's bytes with its content-encodings undone, incrementally: raw and decoded
    bytes both count against `limit`. Gaps between reads are measured."""
    try:
        decoder = BoundedDecoder(encodings(response.headers.get("content-encoding", "")), limit)
        raw = 0
        for chunk in response.iter_raw():
            watchdog.read_now()
            raw += len(chunk)
            if raw > limit:
                raise Cut(Kind.BODY_TOO_LARGE, f"body exceeded {limit} bytes; read stopped")
            yield from decoder.feed(chunk)
        yield from decoder.flush()
    except DecodeError as exc:
        kind = Kind.BODY_TOO_LARGE if exc.limit else Kind.DECODING
        raise Cut(kind, f"content-encoding: {exc}") from None


def _take(
    sse: FramedEvent, exchange: Exchange, started: float, bounds: Bounds
) -> StreamEvent | None:
    """The framed event as a `StreamEvent` appended to the exchange (None: it has no data)."""
    if sse.data == "":
        return None  # an event without data carries nothing to judge
    assert exchange.events is not None
    event = StreamEvent(sse.event, sse.data, sse.id, sse.retry, time.monotonic() - started)
    exchange.events.append(event)
    if len(exchange.events) > bounds.max_events:
        raise Cut(Kind.STREAM_TOO_LONG, f"more than {bounds.max_events} events; stream cut")
    return event
