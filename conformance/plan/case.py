"""The unit of a plan: one request the suite will send, and what it is meant to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.spec import Operation

Kind = Literal["positive", "negative", "boundary"]
Expect = Literal["success", "reject"]


@dataclass(frozen=True)
class Case:
    """One request: its body (JSON value or exact bytes), parameters and expected outcome.

    `expect="success"` means the spec says the request is valid; `"reject"` means it breaks
    exactly one rule (named in `rule`) and a conforming gateway answers 4xx.
    """

    id: str
    kind: Kind
    title: str
    expect: Expect
    body: Any = None
    raw_body: bytes | None = None
    content_type: str = "application/json"
    deployment: str | None = None
    api_version: str | None = None
    omit_api_version: bool = False
    rule: str | None = None
    pointer: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_json(self) -> bool:
        return self.raw_body is None

    def field(self, name: str, op: Operation, fallback: Any = None) -> Any:
        """The value of a body field as the gateway should read it (spec default if absent)."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return op.default(name, fallback)

    def requested_n(self, op: Operation) -> int:
        value = self.field("n", op, 1)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1

    def streamed(self, op: Operation) -> bool:
        return self.field("stream", op, False) is True

    def images_requested(self, op: Operation) -> int:
        """Images a conforming gateway generates for this case (0 for a rejected request)."""
        return self.requested_n(op) if self.expect == "success" else 0
