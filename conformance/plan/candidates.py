"""A negative candidate: a body meant to break one rule, before the validator judges it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """A body meant to break `rule`, before the validator has judged it."""

    rule: str
    pointer: str
    label: str
    title: str
    body: Any = None
    raw_body: bytes | None = None
