"""Keep credentials out of everything the suite stores or prints.

The api key, every `--header` value and a password in `--base-url` are secrets. They are
masked wherever they appear, in every form a gateway's echo or one of our own rendering steps
can give them: as written, JSON-escaped (`\\u0073k-...`, any number of backslashes, as JSON
inside JSON gives), percent-encoded (either case of hex digit), HTML-escaped, and base64 at any
byte offset (standard and URL-safe alphabets). Excerpts and messages are cut to length before
they are redacted, so a piece of a secret left at a cut (any FRAGMENT_LEN characters of it) is
masked too.

Every output applies `Redactor.output` to its final text, after pretty-printing and escaping,
just before the bytes are written or printed (`conformance.report`, `conformance.console`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from conformance.secret_forms import base64_cores

MASK = "***REDACTED***"
MIN_SECRET_LEN = 4
FRAGMENT_LEN = 8
MIN_BASE64_LEN = 8
"""Shorter base64 cores of a secret would mask ordinary text."""
_HTML: dict[str, tuple[str, ...]] = {
    "&": ("&amp;", "&#38;"),
    "<": ("&lt;", "&#60;"),
    ">": ("&gt;", "&#62;"),
}
_HTML |= {'"': ("&quot;", "&#34;", "&#x22;"), "'": ("&#39;", "&#x27;", "&apos;")}
_JSON_SHORT = {'"': '"', "\\": "\\", "/": "/", "\n": "n", "\t": "t", "\r": "r"}
_SURROGATE = re.compile("[\ud800-\udfff]")


class Redactor:
    """Replaces every known secret (in all its encoded forms) with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        cores: set[str] = set()
        pieces: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LEN:
                continue
            cores.add(secret)
            # "Bearer sk-..." also leaks its token when echoed alone.
            scheme, _, token = secret.partition(" ")
            if token and len(token) >= MIN_SECRET_LEN and scheme.isalpha():
                cores.add(token)
                pieces.update(_pieces(token))
            else:
                pieces.update(_pieces(secret))
        ordered = sorted(cores, key=len, reverse=True)
        self._pattern = re.compile("|".join(_char_pattern(s) for s in ordered)) if ordered else None
        self._base64 = sorted(
            {form for s in ordered for form in base64_cores(s, MIN_BASE64_LEN)},
            key=len,
            reverse=True,
        )
        self._fragments = pieces

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        value = self._pattern.sub(MASK, value)
        for form in self._base64:
            if form in value:
                value = value.replace(form, MASK)
        return self._mask_fragments(value)

    def output(self, value: str) -> str:
        """The final text of an output: lone surrogates escaped (so no encoder fails on what
        a gateway sent), then every secret masked."""
        return self.text(escape_surrogates(value))

    def _mask_fragments(self, value: str) -> str:
        spans: list[tuple[int, int]] = []
        for piece in self._fragments:
            start = value.find(piece)
            while start != -1:
                spans.append((start, start + FRAGMENT_LEN))
                start = value.find(piece, start + 1)
        if not spans:
            return value
        out, last = [], 0
        for start, end in _merged(spans):
            out += [value[last:start], MASK]
            last = end
        return "".join(out) + value[last:]

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}

    def deep(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value


def escape_surrogates(value: str) -> str:
    """Lone surrogates (from JSON such as `"\\ud800"`) as `\\udXXX` text."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _hex(byte: int) -> str:
    """Two hex digits of `byte`, either case."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{byte:02x}")


def _char_pattern(secret: str) -> str:
    """A regex matching `secret` with each character written plainly, JSON-escaped,
    percent-encoded or HTML-escaped."""
    parts = []
    for char in secret:
        forms = [re.escape(char)]
        if char == " ":
            forms.append(r"\+")
        code = ord(char)
        units = [code] if code < 0x10000 else [0xD800 + ((code - 0x10000) >> 10)]
        if code >= 0x10000:
            units.append(0xDC00 + ((code - 0x10000) & 0x3FF))
        forms.append("".join(r"\\+u" + _hex(u >> 8) + _hex(u & 0xFF) for u in units))
        forms.append("".join("%" + _hex(b) for b in char.encode("utf-8")))
        if char in _JSON_SHORT:
            forms.append(r"\\+" + re.escape(_JSON_SHORT[char]))
        forms += [re.escape(e) for e in _HTML.get(char, ())]
        parts.append("(?:" + "|".join(forms) + ")")
    return "".join(parts)


def _pieces(secret: str) -> set[str]:
    """Every FRAGMENT_LEN-character piece of a secret longer than that."""
    if len(secret) <= FRAGMENT_LEN:
        return set()
    return {secret[i : i + FRAGMENT_LEN] for i in range(len(secret) - FRAGMENT_LEN + 1)}


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
