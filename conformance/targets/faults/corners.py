"""Defects confined to one corner of the input space: n >= 2, one size, hd streams."""

from __future__ import annotations

import time

from conformance.targets.faults.edits import completed, events, items
from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.payload import COMPLETED, PARTIAL, usage
from conformance.targets.png import render

TALL_SIZE = "1024x1792"
PORTRAIT_SIZES = ("1024x1792", "1024x1536")


def _drop_last(req: GatewayRequest, body: Body) -> Body:
    if req.n >= 2:
        body["data"] = body["data"][:-1]
        body["usage"] = usage(req, len(body["data"]))
    return body


def _all_index_zero(req: GatewayRequest, body: Body) -> Body:
    if req.n >= 2:
        for item in items(body):
            item["index"] = 0
    return body


def _square_for_tall(req: GatewayRequest, index: int, png: bytes) -> bytes:
    return render(1024, 1024) if req.size == TALL_SIZE else png


def _error_for_hd_stream(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.quality != "hd":
        return frames
    first = frames[0].payload or {}
    error = {
        "type": "error",
        "sequence_number": first.get("sequence_number", 0) + 1,
        "created_at": int(time.time()),
        "error": {"type": "server_error", "message": "hd rendering timed out upstream"},
    }
    return [frames[0], Frame(data=error, event="error")]


def _restart_sequence(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    number = 0
    for event in events(frames):
        if event.get("type") == PARTIAL:
            number = 0
        event["sequence_number"] = number
        number += 1
    return frames


def _one_completed(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.n < 2:
        return frames
    first_done = next(i for i, f in enumerate(frames) if f.event == COMPLETED)
    return frames[: first_done + 1]


def _portrait_stream_single(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.size not in PORTRAIT_SIZES or len(completed(frames)) < 2:
        return frames
    return _one_completed(req, frames)


FAULTS = [
    Fault(
        id="drops-last-image-when-n-ge-2",
        summary="for n >= 2 the last image is lost (off-by-one in the fan-in loop)",
        expected_check="IMG-COUNT",
        body=_drop_last,
    ),
    Fault(
        id="index-always-zero-when-n-ge-2",
        summary="for n >= 2 every data item says index 0",
        expected_check="IMG-INDEX",
        body=_all_index_zero,
    ),
    Fault(
        id="square-image-for-1024x1792",
        summary="1024x1792 requests get a 1024x1024 image while size echoes 1024x1792",
        expected_check="IMG-SIZE",
        image=_square_for_tall,
    ),
    Fault(
        id="error-event-for-hd-streams",
        summary="streams with quality hd fail upstream: an error event after the first partial",
        expected_check="SSE-NO-ERROR-EVENT",
        frames=_error_for_hd_stream,
    ),
    Fault(
        id="sequence-restarts-per-image",
        summary="sequence_number restarts at 0 for each image of an n >= 2 stream",
        expected_check="SSE-SEQUENCE",
        frames=_restart_sequence,
    ),
    Fault(
        id="one-completed-for-n-ge-2-streams",
        summary="streams for n >= 2 end after the first completed image",
        expected_check="SSE-COMPLETED-COUNT",
        frames=_one_completed,
    ),
    Fault(
        id="portrait-streams-single-image",
        summary="streamed portrait sizes carry one image where the JSON answer carries n",
        expected_check="SSE-PARITY",
        frames=_portrait_stream_single,
    ),
]
