"""Answers the spec allows but the official openai SDK cannot use."""

from __future__ import annotations

from conformance.targets.faults.edits import events
from conformance.targets.faults.model import Fault
from conformance.targets.messages import Frame, GatewayRequest


def _null_error_member(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event["error"] = {"code": None, "message": None}
    return frames


def _retry_only_event(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    return [Frame(retry=3000), *frames]


def _ids_and_heartbeats(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    out: list[Frame] = []
    for number, frame in enumerate(frames):
        frame.id = str(number)
        out.extend([frame, Frame(comment="heartbeat")])
    return out


FAULTS = [
    Fault(
        id="sdk-null-error-member-in-events",
        summary='every stream event carries "error": {"code": null, "message": null} (an unknown '
        "field to the spec; the SDK raises on any non-empty `error`)",
        expected_check="SDK-COMPAT",
        frames=_null_error_member,
    ),
    Fault(
        id="sdk-retry-only-event",
        summary="the stream opens with a `retry: 3000` line and no data (legal SSE: such an "
        "event is not dispatched; the SDK parses its empty data as JSON and fails)",
        expected_check="SDK-COMPAT",
        frames=_retry_only_event,
    ),
    Fault(
        id="sdk-heartbeat-after-id",
        summary="events carry id: lines, each followed by a `: heartbeat` comment (legal SSE; "
        "the SDK turns the comment into an event with empty data and fails on it)",
        expected_check="SDK-COMPAT",
        frames=_ids_and_heartbeats,
    ),
]
