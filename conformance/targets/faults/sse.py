"""Defects of streamed answers: media type, event schema, sequence, count, ending, content."""

from __future__ import annotations

import base64

from conformance.targets.faults.edits import completed, events, partials
from conformance.targets.faults.model import Fault, Headers
from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.payload import usage
from conformance.targets.png import render

HEARTBEAT_S = 0.25
HEARTBEATS = 2400


def _text_plain(req: GatewayRequest, status: int, headers: Headers) -> Headers:
    if req.stream and status == 200:
        return {**headers, "content-type": "text/plain"}
    return headers


def _null_partial_size(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in partials(frames):
        event["size"] = None
    return frames


def _repeat_sequence(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in completed(frames):
        event["sequence_number"] -= 1
    return frames


def _usage_chunk(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    last = events(frames)[-1]["sequence_number"]
    tail = {"sequence_number": last + 1, "usage": usage(req, req.n)}
    return [*frames, Frame(data=tail)]


def _never_closes(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    if req.n < 2:
        return frames
    beats = [Frame(comment="keep-alive", delay_s=HEARTBEAT_S) for _ in range(HEARTBEATS)]
    return [*frames, *beats]


def _square_stream(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    square = base64.b64encode(render(1024, 1024)).decode()
    for event in events(frames):
        event["b64_json"] = square
    return frames


def _stream_total_without_input(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in completed(frames):
        event["usage"]["total_tokens"] = event["usage"]["output_tokens"]
    return frames


def _created_at_ms(req: GatewayRequest, frames: list[Frame]) -> list[Frame]:
    for event in events(frames):
        event["created_at"] = event["created_at"] * 1000
    return frames


FAULTS = [
    Fault(
        id="stream-labelled-text-plain",
        summary="streams are sent as text/plain instead of text/event-stream",
        expected_check="SSE-CONTENT-TYPE",
        headers=_text_plain,
    ),
    Fault(
        id="partial-event-size-null",
        summary="partial_image events carry size: null",
        expected_check="SSE-EVENT-SCHEMA",
        frames=_null_partial_size,
    ),
    Fault(
        id="completed-repeats-sequence-number",
        summary="each completed event repeats the sequence_number of its partial event",
        expected_check="SSE-SEQUENCE",
        frames=_repeat_sequence,
    ),
    Fault(
        id="trailing-usage-chunk",
        summary="a usage-only event follows the last completed event",
        expected_check="SSE-NOTHING-AFTER-END",
        frames=_usage_chunk,
    ),
    Fault(
        id="stream-never-closes",
        summary="for n >= 2 the fan-in never closes: after the last completed event the stream "
        "stays open sending keep-alive comments",
        expected_check="SSE-TERMINATES",
        frames=_never_closes,
    ),
    Fault(
        id="stream-ignores-size",
        summary="streamed images are always 1024x1024 whatever size was asked",
        expected_check="SSE-IMAGE-SIZE",
        frames=_square_stream,
    ),
    Fault(
        id="stream-usage-total-excludes-input",
        summary="usage on completed events has total_tokens = output_tokens",
        expected_check="SSE-USAGE-SUM",
        frames=_stream_total_without_input,
    ),
    Fault(
        id="stream-created-at-milliseconds",
        summary="created_at in stream events is in milliseconds",
        expected_check="SSE-CREATED-AT-SECONDS",
        frames=_created_at_ms,
    ),
]
