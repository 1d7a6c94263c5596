"""JSON Pointer tokens (RFC 6901), as the suite names places in a document."""

from __future__ import annotations

from typing import Any


def escape_pointer(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def replace_at(document: Any, pointer: str, value: Any) -> None:
    """Put `value` at `pointer` (relative, `/properties/n`, `/allOf/1/...`) in `document`."""
    *parents, last = [_unescape(t) for t in pointer.split("/")[1:]]
    target = document
    for token in parents:
        target = target[int(token)] if isinstance(target, list) else target[token]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
