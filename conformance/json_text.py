"""JSON text as the suite parses it: bounded, never raising, and read once when it is large.

A gateway may answer with a 100 MB JSON body (one image as `b64_json`). Read into bytes,
decoded to text and then parsed, it would be held two or three times over. `read_json` reads
it as it arrives instead: it decodes each piece, lifts every long string literal out of the
text into a string of its own, grown in place, and parses the rest (a few bytes of structure)
at the end. The raw bytes are not kept beyond `KEPT_BODY_BYTES`, so the answer is held about
once, as the parsed value.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()
"""What `json_body` / `payload` hold when the text is not JSON (or is too deep to parse)."""

MAX_JSON_DEPTH: Final = 64
"""Deeper JSON is not judged (no answer of the spec nests past a few levels)."""
MAX_JSON_ITEMS: Final = 100_000
"""More values (array items, object members, nested) are not judged: the checks stay fast."""
MAX_INT_DIGITS: Final = 4000
"""Longer integer literals are parsed as an infinite float: Python refuses to print an int of
more than 4300 digits, and no field of the spec holds one; the checks judge the value."""

KEPT_BODY_BYTES: Final = 256 * 1024
"""How much of a large JSON body an exchange keeps once it is parsed (more than any excerpt
shows): the checks read the parsed value, the reports the first bytes."""

LIFT_CHARS: Final = 64 * 1024
"""A string literal longer than this is held apart from the text while the body is read."""
_CONTROL_BYTES: Final = bytes(range(0x20))
"""What JSON refuses unescaped inside a string (UTF-8 never encodes other text with them)."""
_CHECKED_CHARS: Final = 256 * 1024
"""A long literal is checked for them a slice at a time: two small copies, never a whole one."""
_PARSE_LOCK: Final = threading.Lock()
"""Large bodies are parsed one at a time: the workers read their answers side by side, but
the values of many wide answers (100,000 small objects each) are not built at once."""
_PIECE_BYTES: Final = 1 << 20
"""Bytes decoded at a time: a whole body given as one chunk is still read piece by piece."""
_MAX_LITERALS: Final = 2 * MAX_JSON_ITEMS + 2
"""Past this many string literals (keys and values) the text is taken as it comes: the value
is beyond the bounds anyway, and lexing it string by string would only cost time."""


def parse_json(text: str | bytes) -> Any:
    """JSON text parsed, or `NOT_JSON`; never raises, whatever the text holds."""
    return parse_json_bounded(text)[0]


def parse_json_bounded(text: str | bytes) -> tuple[Any, str]:
    """JSON text parsed and within `MAX_JSON_DEPTH` and `MAX_JSON_ITEMS`; or `NOT_JSON` and why
    (empty when the text is simply not JSON)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_int=_bounded_int)
    except RecursionError:
        return NOT_JSON, f"JSON nested deeper than the suite judges ({MAX_JSON_DEPTH} levels)"
    except (UnicodeDecodeError, ValueError):
        return NOT_JSON, ""
    problem = _beyond_bounds(value)
    return (NOT_JSON, problem) if problem else (value, "")


def _bounded_int(literal: str) -> int | float:
    if len(literal) > MAX_INT_DIGITS:
        return float("-inf") if literal.startswith("-") else float("inf")
    return int(literal)


def _beyond_bounds(value: Any) -> str:
    """Why `value` is too deep or too wide to judge, walked without recursion."""
    stack = [(value, 1)]
    items = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than the suite judges ({MAX_JSON_DEPTH} levels)"
        items += len(children)
        if items > MAX_JSON_ITEMS:
            return f"JSON with more values than the suite judges ({MAX_JSON_ITEMS})"
        stack.extend((child, depth + 1) for child in children)
    return ""


# -- a large body, read once -----------------------------------------------------------------


@dataclass(frozen=True)
class ReadBody:
    """A body as `read_json` read it."""

    kept: bytes
    """The whole body; or, once it is parsed, its first `KEPT_BODY_BYTES`."""
    size: int
    """How many bytes the body had."""
    parsed: bool = False
    """Whether `value` and `problem` hold the parse (a small body is parsed when asked)."""
    value: Any = NOT_JSON
    problem: str = ""


@dataclass
class _Split:
    """The text of a body with its long string literals apart: `segments[0] + literals[0] +
    segments[1] + ...`, the quotes of each literal in the segments around it."""

    segments: list[str]
    literals: list[str]

    def text(self, placeholders: list[str] | None = None) -> str:
        """The text again, each lifted literal replaced by its placeholder when given."""
        fills = placeholders if placeholders is not None else self.literals
        parts = [self.segments[0]]
        for fill, segment in zip(fills, self.segments[1:], strict=True):
            parts += (fill, segment)
        return "".join(parts)


def read_json(chunks: Iterable[bytes], parse_above: int = KEPT_BODY_BYTES) -> ReadBody:
    """Read a body from `chunks`. Up to `parse_above` bytes it is kept as it came, to be
    parsed when asked; a longer one is parsed as it arrives and only its first
    `KEPT_BODY_BYTES` are kept, unless it turns out not to be JSON (then it is kept whole).

    Exceptions raised by `chunks` (a cut, a size limit) propagate."""
    return lex_json(chunks, parse_above)()


def lex_json(chunks: Iterable[bytes], parse_above: int = KEPT_BODY_BYTES) -> Callable[[], ReadBody]:
    """`read_json` in two steps: the reading, now (its long literals lifted as they arrive),
    and the parse that is left, returned to be run later: a client runs it once the request
    is over, so that neither the parse nor the wait for `_PARSE_LOCK` counts against the
    gateway's time."""
    source = iter(chunks)
    head: list[bytes] = []
    held = 0
    for chunk in source:
        head.append(chunk)
        held += len(chunk)
        if held > parse_above:
            break
    else:
        whole = ReadBody(kept=b"".join(head), size=held)
        return lambda: whole
    counted = _Counted(head, source)
    del head
    split = _split(_decoded(counted))
    return functools.partial(_parsed, split, counted)


class _Counted:
    """The chunks of a body, each once and in pieces, counted, with their first bytes kept."""

    def __init__(self, head: list[bytes], rest: Iterator[bytes]) -> None:
        self.first = b""
        self.size = 0
        self.not_utf8 = False
        self._chunks = itertools.chain(head, rest)

    def __iter__(self) -> Iterator[memoryview]:
        for chunk in self._chunks:
            if len(self.first) < KEPT_BODY_BYTES:
                self.first += chunk[: KEPT_BODY_BYTES - len(self.first)]
            self.size += len(chunk)
            view = memoryview(chunk)
            del chunk
            for start in range(0, len(view), _PIECE_BYTES):
                yield view[start : start + _PIECE_BYTES]


def _decoded(counted: _Counted) -> Iterator[str]:
    """The body as text, piece by piece. From the first byte that is not UTF-8 on, such bytes
    survive as escapes (so the body can be given back whole), and `counted` notes it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pieces: Iterator[memoryview | bytes] = itertools.chain(counted, (b"",))
    for piece in pieces:
        final = not piece
        state = decoder.getstate()
        try:
            yield decoder.decode(piece, final=final)
        except UnicodeDecodeError:
            counted.not_utf8 = True
            decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
            decoder.setstate(state)
            yield decoder.decode(piece, final=final)


def _split(texts: Iterator[str]) -> _Split:
    """Lex the text for its string literals only, lifting out those above `LIFT_CHARS`.

    Short literals are only scanned over: the text is kept in the pieces it came in. One
    function with local state on purpose: `big += ...` grows a local string in place (the
    interpreter resizes a string nothing else refers to), which an attribute would not."""
    segments: list[str] = []
    literals: list[str] = []
    current: list[str] = []  # the segment being read, in the pieces it came in
    origin = 0  # where the open literal's text starts: in this piece, or in current[at]
    at = -1  # -1: the open literal began in this piece
    carried = 0  # its length in earlier pieces
    big = ""  # a lifted literal, grown in place in steps of an eighth of its size
    pending: list[str] = []
    pending_length = 0
    in_string = escaped = False
    count = 0
    for text in texts:
        pos = mark = 0  # mark: where this piece's part of the current segment starts
        end = len(text)
        while pos < end:
            if not in_string:
                quote = text.find('"', pos) if count <= _MAX_LITERALS else -1
                if quote < 0:
                    break
                pos, in_string, count = quote + 1, True, count + 1
                origin, at, carried = pos, -1, 0
            elif escaped:  # the character after a backslash, whatever it is
                pos, escaped = pos + 1, False
            else:
                quote = text.find('"', pos)
                backslash = text.find("\\", pos, end if quote < 0 else quote)
                if backslash >= 0:
                    pos, escaped = backslash + 1, True
                elif quote < 0:
                    break
                else:  # the literal ends at `quote`
                    in_string, pos = False, quote + 1
                    if big:
                        pending.append(text[:quote])
                        big += "".join(pending)
                        literal, big, pending, pending_length = big, "", [], 0
                    elif carried + quote - (origin if at < 0 else 0) > LIFT_CHARS:
                        if at < 0:
                            current.append(text[mark:origin])
                            literal = text[origin:quote]
                        else:
                            current, parts = _cut(current, at, origin)
                            literal = "".join([*parts, text[:quote]])
                    else:
                        continue
                    segments.append("".join(current))
                    literals.append(literal)
                    current, mark = [], quote
        if big:  # the whole piece is part of a lifted literal
            pending.append(text)
            pending_length += end
            if pending_length * 8 >= len(big):
                big += "".join(pending)
                pending, pending_length = [], 0
            continue
        current.append(text[mark:])
        if in_string:
            if at < 0:
                at, origin, carried = len(current) - 1, origin - mark, end - origin
            else:
                carried += end
            if carried > LIFT_CHARS:
                current, parts = _cut(current, at, origin)
                big = "".join(parts)
    if big:  # an unterminated string: the text is not JSON, but is given back whole
        current += (big, *pending)
    segments.append("".join(current))
    return _Split(segments, literals)


def _cut(current: list[str], at: int, origin: int) -> tuple[list[str], list[str]]:
    """The pieces of a segment before an open literal that starts at `current[at][origin]`,
    and the pieces of the literal."""
    head = current[at]
    return [*current[:at], head[:origin]], [head[origin:], *current[at + 1 :]]


def _parsed(split: _Split, counted: _Counted) -> ReadBody:
    """The split text parsed, its lifted literals put back; or the body whole if it is not
    JSON within the bounds. One at a time (`_PARSE_LOCK`)."""
    with _PARSE_LOCK:
        if not counted.not_utf8:
            nonce = secrets.token_hex(8)
            placeholders = [f"\ue000{nonce}:{i}" for i in range(len(split.literals))]
            found = [_string(literal) for literal in split.literals]
            strings = [string for string in found if string is not None]
            value, problem = NOT_JSON, ""
            if len(strings) == len(found):  # each lifted literal is a JSON string, as parsed
                value, problem = parse_json_bounded(split.text(placeholders))
            if value is not NOT_JSON:
                value = _filled(value, dict(zip(placeholders, strings, strict=True)))
                kept = counted.first if counted.size > KEPT_BODY_BYTES else split.text().encode()
                return ReadBody(kept, counted.size, True, value, problem)
        else:
            problem = ""
        whole = split.text().encode("utf-8", "surrogateescape")
        return ReadBody(whole, counted.size, True, NOT_JSON, problem)


def _filled(value: Any, literals: dict[str, str]) -> Any:
    """`value` with each placeholder (a key or a string value) replaced by its string."""
    if not literals:
        return value
    if isinstance(value, str):  # the whole text is one long string
        return literals.get(value, value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k in node if k in literals]:
                node[literals[key]] = node.pop(key)
            items: Iterable[tuple[Any, Any]] = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for where, child in list(items):
            if isinstance(child, str) and child in literals:
                node[where] = literals.pop(child)
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return value


def _has_control(text: str) -> bool:
    """Whether `text` holds a control character, checked on its UTF-8 bytes a slice at a time
    (bytes.translate runs five times as fast as a regular expression over the text)."""
    for start in range(0, len(text), _CHECKED_CHARS):
        raw = text[start : start + _CHECKED_CHARS].encode("utf-8", "surrogatepass")
        if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
            return True
    return False


def _string(literal: str) -> str | None:
    """A lifted literal's text as the string JSON makes of it, or None when JSON refuses it (a
    control character, a bad escape): as is without escapes, else decoded as JSON decodes it."""
    if "\\" not in literal:
        return None if _has_control(literal) else literal
    try:
        decoded: str = json.loads(f'"{literal}"')
    except ValueError:
        return None
    return decoded
