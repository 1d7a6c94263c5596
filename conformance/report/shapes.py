"""Failures grouped by shape: the same message with its values masked.

Fifty failures of one check are usually one defect seen on fifty cases ("expected 2 images, got
1", "expected 4 images, got 1", ...). The report shows each shape once, with how often it
occurred and a few examples, so a page of failures reads as a list of defects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from conformance.results import Failure

_MASKS = (
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), "'…'"),
    (re.compile(r"https?://\S+"), "URL"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.IGNORECASE), "#"),
    (re.compile(r"\b\d+x\d+\b"), "WxH"),
    (re.compile(r"(?<![A-Za-z_\d.])\d+(?:\.\d+)?"), "N"),
)
"""Quoted text, URLs, hex digests, sizes, then numbers standing alone (`b64_json` stays)."""


def shape_of(message: str) -> str:
    """`message` with its values masked: `expected 2 images, got 1` -> `expected N images,
    got N`."""
    for pattern, mask in _MASKS:
        message = pattern.sub(mask, message)
    return message


@dataclass
class Shape:
    """The failures of one check that share a shape, in report order."""

    text: str
    failures: list[Failure] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.failures)


def shapes(failures: Sequence[Failure]) -> list[Shape]:
    """`failures` grouped by shape, the most frequent first (ties: first seen first)."""
    found: dict[str, Shape] = {}
    for failure in failures:
        text = shape_of(failure.message)
        found.setdefault(text, Shape(text)).failures.append(failure)
    return sorted(found.values(), key=lambda s: -s.count)
