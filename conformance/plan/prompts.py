"""Prompts: a plain one for structural cases, and prompts that exercise text handling."""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st

BASE_PROMPT: Final = "A watercolor painting of a red fox standing in fresh snow"
LONG_PROMPT_CHARS: Final = 3000

_HARBOR = "A quiet harbor at dawn, fishing boats with red sails, gulls over the nets. "

TEXT_PROMPTS: Final[dict[str, str]] = {
    "non-ascii": "Ein Fuchs über der Straße; 東京の夜景; Ελληνική θάλασσα; ñandú en la pampa",
    "emoji": "A fox 🦊 under a city skyline 🌆 with sparkles ✨, an astronaut 👩🏽‍🚀 waving",
    "quotes": "A shop sign that reads \"Open '24/7'\" next to a backslash \\ and {braces}",
    "newlines": "First line: a lighthouse\nSecond line: at dusk\r\n\tIndented: gulls circling",
    "long": (_HARBOR * (LONG_PROMPT_CHARS // len(_HARBOR) + 1))[:LONG_PROMPT_CHARS],
}
"""Named prompts, each sent once in the explicit part of a plan."""

_FRAGMENTS: Final = (
    "a lighthouse",
    " at dusk",
    ", ",
    "\n",
    '"quoted"',
    "'single'",
    " über ",
    "東京",
    "🦊",
    "👩🏽‍🚀",
    "\\",
    "\t",
)
_TEXT = st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t")


def prompt_strategy() -> st.SearchStrategy[str]:
    """Prompts for random bodies: named prompts, joined fragments, or free text with a letter."""
    free = st.text(_TEXT, min_size=1, max_size=120).filter(lambda s: any(c.isalnum() for c in s))
    joined = st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=8).map(
        lambda parts: "A picture of " + "".join(parts)
    )
    return st.one_of(st.sampled_from(list(TEXT_PROMPTS.values())), joined, free)
