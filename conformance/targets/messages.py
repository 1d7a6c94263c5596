"""What the reference gateway passes to fault hooks: the parsed request, issues, SSE frames."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.spec import Operation


@dataclass(frozen=True)
class Issue:
    """One reason a request is invalid: the offending field and the rule it breaks."""

    param: str
    message: str
    keyword: str = ""
    code: str = "invalid_value"


@dataclass(frozen=True)
class Refusal:
    """An error answer a fault asks for; the gateway renders it as an error envelope."""

    status: int
    message: str
    param: str = "body"
    code: str = "invalid_value"


@dataclass
class GatewayRequest:
    """A request as the gateway read it; `body` is the parsed JSON value when `parsed`.

    `issues` holds the (fault-adjusted) reasons the request is invalid once validated.
    """

    op: Operation
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    base_url: str
    deployment: str | None = None
    body: Any = None
    parsed: bool = False
    issues: list[Issue] = field(default_factory=list)
    upstream_status: int | None = None
    """When forwarding: the status the upstream answered (set before an error is mapped)."""

    def field(self, name: str, fallback: Any = None) -> Any:
        """The body field as the gateway reads it: the sent value, else the spec default."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return self.op.default(name, fallback)

    def sent(self, name: str) -> bool:
        return isinstance(self.body, dict) and name in self.body

    @property
    def n(self) -> int:
        value = self.field("n", 1)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        return 1

    @property
    def stream(self) -> bool:
        return self.field("stream", False) is True

    @property
    def size(self) -> str | None:
        value = self.field("size")
        return value if isinstance(value, str) else None

    @property
    def quality(self) -> str | None:
        value = self.field("quality")
        return value if isinstance(value, str) else None

    @property
    def response_format(self) -> str | None:
        value = self.field("response_format")
        return value if isinstance(value, str) else None

    @property
    def prompt(self) -> str:
        value = self.field("prompt", "")
        return value if isinstance(value, str) else ""

    @property
    def model(self) -> str:
        value = self.field("model")
        return value if isinstance(value, str) else (self.deployment or "")


@dataclass
class UpstreamCall:
    """One request the gateway sends to its upstream (Azure OpenAI style)."""

    deployment: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Frame:
    """One Server-Sent-Events frame as written on the wire (`data` dicts become JSON)."""

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None
    delay_s: float = 0.0
    extra_lines: list[str] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any] | None:
        return self.data if isinstance(self.data, dict) else None

    def encode(self) -> bytes:
        lines: list[str] = []
        if self.comment is not None:
            lines.append(f": {self.comment}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.event is not None:
            lines.append(f"event: {self.event}")
        lines.extend(self.extra_lines)
        if self.data is not None:
            text = self.data if isinstance(self.data, str) else json.dumps(self.data)
            lines.extend(f"data: {line}" for line in text.split("\n"))
        return ("\n".join(lines) + "\n\n").encode() if lines else b""
