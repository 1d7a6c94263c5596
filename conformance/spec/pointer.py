"""JSON Pointer tokens (RFC 6901), as the suite names places in a document."""

from __future__ import annotations


def escape_pointer(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")
