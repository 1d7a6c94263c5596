"""Keep credentials out of everything the suite stores or prints.

The api key and every `--header` value are secrets. They are replaced wherever they appear:
request headers, response headers and bodies (a gateway may echo them), curl lines, messages.
Excerpts and messages are cut to length before they are redacted, so a piece of a secret left
at a cut (any FRAGMENT_LEN characters of it) is masked too.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

MASK = "***REDACTED***"
MIN_SECRET_LEN = 4
FRAGMENT_LEN = 8


class Redactor:
    """Replaces every known secret (and its base64 and percent-encoded forms) with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        fragments: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LEN:
                continue
            forms.add(secret)
            forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
            forms.add(_percent(secret))
            # "Bearer sk-..." also leaks its token when echoed alone.
            scheme, _, token = secret.partition(" ")
            if token and len(token) >= MIN_SECRET_LEN and scheme.isalpha():
                forms.add(token)
            core = token if token and scheme.isalpha() else secret
            fragments.update(_pieces(core))
        self._forms = sorted(forms, key=len, reverse=True)
        self._fragments = fragments

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return self._mask_fragments(value)

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


def _percent(secret: str) -> str:
    from urllib.parse import quote

    return quote(secret, safe="")
