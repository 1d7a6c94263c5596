"""Tags the checks rely on, derived from what a body holds."""

from __future__ import annotations

from typing import Any, Final

from conformance.plan.domains import PROMPT_FIELD, STREAM_FIELD, stream_exclusive_fields
from conformance.spec import Operation

UNKNOWN_FIELDS: Final = "unknown-fields"
EMPTY_PROMPT: Final = "empty-prompt"
RANDOM: Final = "random"
API_VERSION_ABSENT: Final = "api-version-absent"
DEPLOYMENT_ESCAPED: Final = "deployment-escaped"
TEXT_PREFIX: Final = "text:"
PARITY_PREFIX: Final = "parity:"


def stream_tag(name: str) -> str:
    """The tag of a streamed body that sets `name` (e.g. `stream-response-format`)."""
    return "stream-" + name.replace("_", "-")


def body_tags(body: Any, op: Operation) -> tuple[str, ...]:
    """Tags that follow from a valid body alone."""
    if not isinstance(body, dict):
        return ()
    tags: list[str] = []
    if any(name not in op.properties for name in body):
        tags.append(UNKNOWN_FIELDS)
    if body.get(PROMPT_FIELD) == "":
        tags.append(EMPTY_PROMPT)
    if body.get(STREAM_FIELD) is True:
        tags.extend(stream_tag(name) for name in stream_exclusive_fields(op) if name in body)
    return tuple(tags)
