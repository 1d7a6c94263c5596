"""Keep credentials out of everything the suite stores or prints.

The api key and every `--header` value are secrets. They are replaced wherever they appear:
request headers, response headers and bodies (a gateway may echo them), curl lines, messages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

MASK = "***REDACTED***"
MIN_SECRET_LEN = 4


class Redactor:
    """Replaces every known secret (and its base64 and percent-encoded forms) with a mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
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
        self._forms = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

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


def _percent(secret: str) -> str:
    from urllib.parse import quote

    return quote(secret, safe="")
