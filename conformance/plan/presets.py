"""Budget presets (`--budget`): how much of the plan a run sends, and what each leaves out.

- `smoke`: every value of every enum and boolean once (not every pair), the count boundary at
  its minimum only (a row sends it), one streamed/JSON parity pair, every named case (the
  named prompts carried by the value rows), every negative (a refused request generates no
  image), no random bodies, the SDK probed without n=2: at most 25 paid images.
- `standard` (the default): all pairs, both boundaries, parity for every size family, random
  bodies; the first failure of each check shrunk.
- `deep`: standard with four times the random bodies, and every failure shrunk.

`omits` says what a preset leaves out and why; `blind_faults` names the faults of the
catalogue that only what it leaves out can reveal, each with the omission that hides it and
the case that would reveal it. The fault matrix test proves all of it: every other fault is
flagged by its check under the preset, these are not, the preset's plan holds no revealing
case and standard's does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:  # the command line reads the presets without loading the generators
    from conformance.model import Case
    from conformance.spec import Operation

Rows = Literal["values", "pairs"]
TAG: Final = "tag"
"""A condition on a case's tags rather than on a body field."""


@dataclass(frozen=True)
class Blind:
    """A fault a preset cannot attribute to its check: the omission that hides it, and the
    valid case that would reveal it (`needs`: field -> accepted values, read with the spec's
    defaults; `tag` -> accepted tags). The preset's plan holds no such case; standard's does."""

    omission: str
    needs: dict[str, tuple[Any, ...]]
    note: str = ""

    def revealed_by(self, case: Case, op: Operation) -> bool:
        if case.expect != "success" or not isinstance(case.body, dict):
            return False
        return all(
            bool(set(case.tags) & set(accepted))
            if name == TAG
            else case.field(name, op) in accepted
            for name, accepted in self.needs.items()
        )

    def in_plan(self, cases: Iterable[Case], op: Operation) -> bool:
        return any(self.revealed_by(case, op) for case in cases)


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    max_examples: int
    rows: Rows
    parity_families: Literal["cheapest", "all"]
    count_maximum: bool
    shrink_all: bool
    max_shrink_requests: int
    max_images: int | None = None
    prompts_on_rows: bool = False
    """Send the named text prompts in the value rows (which need some prompt anyway) rather
    than as cases of their own: the same prompts reach the gateway for fewer images."""
    boundaries_once: bool = False
    """Leave out a boundary case whose value a row already sends (smoke's rows send the
    count's minimum)."""
    accept_variants: bool = True
    """Send streamed requests whose Accept header does not name text/event-stream."""
    transparent_stream: bool = True
    """Ask a stream for a transparent background (the only case SSE-BACKGROUND-ALPHA judges)."""
    sdk_probes: tuple[str, ...] | None = None
    """The official SDK's probes (`conformance.sdk_probe.PROBES` names) to send; None: all."""
    omits: dict[str, str] = field(default_factory=dict)
    blind_faults: dict[str, Blind] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The preset as JSON data (dry run, results.json)."""
        return {
            "budget": self.name,
            "summary": self.summary,
            "max_images": self.max_images,
            "omits": dict(self.omits),
            "faults_not_seen": [
                {
                    "fault": fault,
                    "omission": blind.omission,
                    "why": self.omits[blind.omission],
                    "needs": {name: list(values) for name, values in blind.needs.items()},
                    **({"note": blind.note} if blind.note else {}),
                }
                for fault, blind in self.blind_faults.items()
            ],
        }


_PAIRS = "pairs"
_COUNTS = "counts"
_PARITY = "parity"
_RANDOM = "random"
_SDK_COUNT = "sdk-count"
_ACCEPT = "accept"
_TRANSPARENT = "transparent-stream"

SMOKE: Final = Preset(
    name="smoke",
    summary="every enum and boolean value once, every named case and negative, no random bodies",
    max_examples=0,
    rows="values",
    parity_families="cheapest",
    count_maximum=False,
    shrink_all=False,
    max_shrink_requests=50,
    max_images=25,  # the plan's images and the SDK's probes
    prompts_on_rows=True,
    boundaries_once=True,
    sdk_probes=("b64_json", "url", "stream"),
    accept_variants=False,
    transparent_stream=False,
    omits={
        _PAIRS: "values are sent one at a time, not in every pair: a defect that needs two "
        "values together shows only where smoke happens to combine them",
        _COUNTS: "counts above 2 are not sent (n=2 in the parity pair tests counts; n=5 and "
        "n=10 alone would cost 15 images)",
        _PARITY: "streamed/JSON parity is compared for one size family (the cheapest), not each",
        _RANDOM: "no random bodies",
        _SDK_COUNT: "the official SDK is not asked for n=2 (the parity pair sends n=2)",
        _ACCEPT: "streamed requests with Accept: */* or no Accept header are not sent (2 "
        "images); every stream asks with Accept: application/json, text/event-stream",
        _TRANSPARENT: "no stream is asked for a transparent background (1 image): "
        "SSE-BACKGROUND-ALPHA (SHOULD) has nothing to judge",
    },
    blind_faults={
        "n-capped-at-four": Blind(_COUNTS, {"n": tuple(range(5, 11))}),
        "square-image-for-1024x1792": Blind(
            _PAIRS,
            {"size": ("1024x1792",), "response_format": ("b64_json",), "stream": (False,)},
            note="smoke sends 1024x1792 as a URL: IMG-URL-FETCH reports the wrong size",
        ),
        "portrait-streams-single-image": Blind(_PARITY, {TAG: ("parity:portrait",)}),
        "stream-needs-accept": Blind(_ACCEPT, {TAG: ("accept:*/*", "accept:")}),
    },
)

STANDARD: Final = Preset(
    name="standard",
    summary="all pairs of values, boundaries, parity per size family, 25 random bodies",
    max_examples=25,
    rows="pairs",
    parity_families="all",
    count_maximum=True,
    shrink_all=False,
    max_shrink_requests=200,
)

DEEP: Final = Preset(
    name="deep",
    summary="standard with 100 random bodies, every failure shrunk",
    max_examples=100,
    rows="pairs",
    parity_families="all",
    count_maximum=True,
    shrink_all=True,
    max_shrink_requests=1000,
)

PRESETS: Final = {p.name: p for p in (SMOKE, STANDARD, DEEP)}
DEFAULT_PRESET: Final = STANDARD.name


def preset(name: str) -> Preset:
    """The preset called `name` (`KeyError` lists the known ones)."""
    if name not in PRESETS:
        raise KeyError(f"unknown budget {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]
