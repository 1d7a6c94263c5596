"""Faults on demand: a marker in the prompt, e.g. `[[upstream:429]]`, `[[upstream:slow=2]]`,
`[[upstream:500@dall-e-3]]` (only when the request is for that model or deployment).

A gateway passes the prompt through, so the suite chooses the upstream's answer per request.
The markers are plain text; a gateway needs no knowledge of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = (
    "429",
    "500",
    "503",
    "401",
    "content-policy",
    "slow",
    "non-json",
    "truncated-stream",
    "pace",
    "usage-missing",
    "usage-null",
    "usage-odd",
)
"""Every fault the upstream can be asked for (`pace` sets the stream pacing in seconds)."""

_MARKER = re.compile(r"\[\[upstream:([a-z0-9-]+)(?:=([0-9.]+))?(?:@([^\]\s]+))?\]\]")


@dataclass(frozen=True)
class Marker:
    """One requested fault: its kind, an optional number (`slow=2`, `429=3`, `pace=0.2`) and
    the model or deployment it is limited to."""

    kind: str
    value: float | None = None
    model: str | None = None

    def applies_to(self, *names: str | None) -> bool:
        return self.model is None or self.model in names

    def text(self) -> str:
        """The marker as it is written in a prompt."""
        value = "" if self.value is None else f"={self.value:g}"
        target = "" if self.model is None else f"@{self.model}"
        return f"[[upstream:{self.kind}{value}{target}]]"


def parse_markers(prompt: str) -> list[Marker]:
    """Every well-formed marker of a known kind in `prompt`, in order."""
    found = []
    for kind, value, model in _MARKER.findall(prompt):
        if kind in KINDS:
            found.append(Marker(kind, float(value) if value else None, model or None))
    return found


def marker(prompt: str, *names: str | None) -> Marker | None:
    """The first fault marker (not `pace`) in `prompt` that applies to a request for one of
    `names` (its model and its deployment)."""
    return next(
        (m for m in parse_markers(prompt) if m.kind != "pace" and m.applies_to(*names)), None
    )


def pace(prompt: str, default: float) -> float:
    """The stream pacing a `[[upstream:pace=S]]` marker asks for, else `default`."""
    for found in parse_markers(prompt):
        if found.kind == "pace" and found.value is not None:
            return found.value
    return default
