"""Small edits the fault hooks share: walk data items, stream events, requests and envelopes."""

from __future__ import annotations

from typing import Any

from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.payload import COMPLETED, PARTIAL


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The data items of a 200 body (the list itself, so edits stick)."""
    data = body.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def events(frames: list[Frame], kind: str | None = None) -> list[dict[str, Any]]:
    """The JSON payloads of `frames`, only those of type `kind` when given."""
    found = [f.payload for f in frames if f.payload is not None]
    return [p for p in found if kind is None or p.get("type") == kind]


def completed(frames: list[Frame]) -> list[dict[str, Any]]:
    return events(frames, COMPLETED)


def partials(frames: list[Frame]) -> list[dict[str, Any]]:
    return events(frames, PARTIAL)


def has_text(req: GatewayRequest) -> bool:
    return req.prompt.strip() != ""


def failed_on(req: GatewayRequest, *keywords: str) -> bool:
    """The request was found invalid and its first issue is one of the schema `keywords`."""
    return bool(req.issues) and req.issues[0].keyword in keywords


def non_json_body(req: GatewayRequest) -> bool:
    """The body is missing or not JSON at all."""
    return not req.parsed
