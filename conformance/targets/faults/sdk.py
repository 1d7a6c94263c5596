"""Answers the spec allows but the official openai SDK cannot use."""

from __future__ import annotations

from conformance.targets.faults.edits import events
from conformance.targets.faults.model import Fault
from conformance.targets.messages import Frame, GatewayRequest


def _null_error_member(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event["error"] = {"code": None, "message": None}
    return frames


FAULTS = [
    Fault(
        id="sdk-null-error-member-in-events",
        summary='every stream event carries "error": {"code": null, "message": null} (an unknown '
        "field to the spec; the SDK raises on any non-empty `error`)",
        expected_check="SDK-COMPAT",
        frames=_null_error_member,
    ),
]
