"""Checks of the Server-Sent-Events stream that answers a valid `stream: true` request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.checks._util import (
    MAX_PROBLEMS,
    allowed_sizes,
    alpha_problem,
    asked,
    cached_image,
    data_items,
    echo_problems,
    effect_problems,
    fetched,
    format_problem,
    is_int,
    parse_size,
    schema_problems,
    short,
    size_problem,
    timestamp_problem,
    usage_problems,
    whole_problem,
)
from conformance.checks.imaging import DecodedImage, named_format
from conformance.checks.registry import ExchangeContext, Problem, RunContext, check
from conformance.model import CUT_KINDS, NOT_JSON, PARITY_PREFIX, Exchange, Level, StreamEvent
from conformance.spec import JSON, SSE, Operation

STREAM = "responses/200/content/text~1event-stream/schema"
DONE = "[DONE]"
DEFAULT_NAME = "message"
"""The SSE type of an event without an `event:` line (WHATWG)."""


@dataclass(frozen=True)
class Frame:
    """One dispatched event: its position in the stream, its JSON payload, or the sentinel."""

    position: int
    event: StreamEvent
    payload: Any
    done: bool

    @property
    def type(self) -> Any:
        """The payload's `type`; when the object has none, the SSE `event:` name (if any)."""
        if not isinstance(self.payload, dict):
            return None
        if "type" in self.payload:
            return self.payload["type"]
        return self.event.event or None


@dataclass(frozen=True)
class EventTypes:
    """The stream event types the spec's `type` enum names for ending an image and failing."""

    completed: str | None
    error: str | None
    partial: str | None = None


def event_types(op: Operation) -> EventTypes:
    """Read the completed and error event types from the stream schema's `type` enum."""
    enum = op.response_field(200, SSE, "type").get("enum", [])
    names = [v for v in enum if isinstance(v, str)]
    return EventTypes(
        completed=next((v for v in names if v.endswith("completed")), None),
        error=next((v for v in names if v == "error" or v.endswith(".error")), None),
        partial=next((v for v in names if "partial" in v), None),
    )


def frames(ctx: ExchangeContext) -> list[Frame]:
    """The stream's events with data parsed once per exchange.

    Events without data are not dispatched (WHATWG rules); `data: [DONE]` is the sentinel.
    """
    found = ctx.cache.get("sse:frames")
    if found is None:
        found = [_frame(i, ev) for i, ev in enumerate(ctx.exchange.events or []) if ev.data != ""]
        ctx.cache["sse:frames"] = found
    return list(found)


def payloads(ctx: ExchangeContext) -> list[Frame]:
    """Every event except the [DONE] sentinel."""
    return [f for f in frames(ctx) if not f.done]


def objects(ctx: ExchangeContext) -> list[Frame]:
    """The events whose data is a JSON object."""
    return [f for f in payloads(ctx) if isinstance(f.payload, dict)]


def completed_frames(ctx: ExchangeContext) -> list[Frame]:
    """The events that end an image."""
    kind = event_types(ctx.op).completed
    return [f for f in payloads(ctx) if kind is not None and f.type == kind]


def partial_frames(ctx: ExchangeContext) -> list[Frame]:
    """The events that carry a partial image."""
    kind = event_types(ctx.op).partial
    return [f for f in payloads(ctx) if kind is not None and f.type == kind]


def stream_answer(ctx: ExchangeContext) -> bool:
    """A valid streamed request answered 200 with an event stream (complete or cut)."""
    return ctx.valid_request and ctx.streamed and ctx.status == 200 and ctx.exchange.is_stream


def completion_watch(op: Operation, images: int) -> Callable[[StreamEvent], bool]:
    """For the client: a per-event test that is true once the stream has delivered `images`
    completed events (or an error event), after which it should close."""
    kinds = event_types(op)
    seen = 0

    def delivered(event: StreamEvent) -> bool:
        nonlocal seen
        names = [k for k in (kinds.completed, kinds.error) if k]
        if not any(name in event.data or name == event.event for name in names):
            return False  # cheap test first: most events are partial images
        kind = _frame(0, event).type
        if kind is not None and kind == kinds.error:
            return True
        if kind is not None and kind == kinds.completed:
            seen += 1
        return seen >= images

    return delivered


def _frame(position: int, event: StreamEvent) -> Frame:
    if event.data.strip() == DONE:
        return Frame(position, event, None, True)
    return Frame(position, event, event.payload, False)


def _where(frame: Frame) -> str:
    return f"event #{frame.position}"


@check(
    id="SSE-CONTENT-TYPE",
    level=Level.MUST,
    statement="A valid `stream: true` request answered 200 gets Content-Type text/event-stream.",
    pointer="responses/200/content/text~1event-stream",
    rationale="`stream: true` asks for images as chunks via SSE, and text/event-stream is the "
    "media type the spec declares for them.",
    applies_to=("stream",),
)
def sse_content_type(ctx: ExchangeContext) -> list[Problem] | None:
    if not (ctx.valid_request and ctx.streamed and ctx.status == 200):
        return None
    actual = ctx.exchange.media_type
    if actual == SSE:
        return []
    return [
        Problem(
            f"expected Content-Type {SSE} for a streamed request, got {actual or 'none'}",
            expected=SSE,
            actual=ctx.exchange.headers.get("content-type", "none"),
        )
    ]


@check(
    id="SSE-EVENT-SCHEMA",
    level=Level.MUST,
    statement="Each event's data is JSON valid against the stream event schema, `type` in its "
    "enum (a final `data: [DONE]` is tolerated).",
    pointer=STREAM,
    rationale="The schema declares the event payload; the OpenAI-style [DONE] sentinel and SSE "
    "framing (comments, id, retry, multi-line data) are legal (ruling).",
    applies_to=("stream",),
)
def event_schema(ctx: ExchangeContext) -> list[Problem] | None:
    schema = ctx.op.response_schema(200, SSE)
    if not stream_answer(ctx) or schema is None:
        return None
    problems: list[Problem] = []
    for frame in payloads(ctx):
        if frame.payload is NOT_JSON:
            problems.append(
                Problem(
                    f"expected {_where(frame)} data to be JSON, got {short(frame.event.data)}",
                    expected="JSON",
                    actual=short(frame.event.data),
                )
            )
        else:
            problems.extend(schema_problems(ctx, schema, frame.payload, _where(frame)))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]


@check(
    id="SSE-SEQUENCE",
    level=Level.MUST,
    statement="`sequence_number`, when present, strictly increases across the stream.",
    pointer=f"{STREAM}/properties/sequence_number",
    rationale="The spec names it the ordering index of the chunks; a repeat or step back makes "
    "the order unknowable.",
    applies_to=("stream",),
)
def sequence(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    numbered = [f for f in objects(ctx) if is_int(f.payload.get("sequence_number"))]
    if not numbered:
        return None
    problems = []
    for before, after in zip(numbered, numbered[1:], strict=False):
        prev, value = before.payload["sequence_number"], after.payload["sequence_number"]
        if value <= prev:
            problems.append(
                Problem(
                    f"expected {_where(after)} sequence_number above {prev}, got {value}",
                    expected=f"> {prev}",
                    actual=str(value),
                )
            )
    return problems[:MAX_PROBLEMS]


@check(
    id="SSE-COMPLETED-COUNT",
    level=Level.MUST,
    statement="The stream carries exactly one completed event (`type` from the spec's enum) per "
    "requested image.",
    pointer=f"{STREAM}/properties/type",
    rationale="One completed event ends each image; a 200 stream without n completed images fails "
    "(ruling). `type` is optional in the event schema, so an object without it is typed by its "
    "SSE `event:` name.",
    applies_to=("stream",),
)
def completed_count(ctx: ExchangeContext) -> list[Problem] | None:
    kind = event_types(ctx.op).completed
    if not stream_answer(ctx) or kind is None:
        return None
    got, wanted = len(completed_frames(ctx)), ctx.requested_n
    if got == wanted:
        return []
    if got < wanted and ctx.exchange.transport_error:
        return None  # the stream was cut: PROTO-RESPONDS / SSE-TERMINATES say so
    return [Problem(f"expected {wanted} {kind} event(s), got {got}", str(wanted), str(got))]


@check(
    id="SSE-NOTHING-AFTER-END",
    level=Level.MUST,
    statement="No event follows the last expected completed event or an error event ([DONE] "
    "excepted).",
    pointer=f"{STREAM}/properties/type",
    rationale="The last completed event ends the stream and an error event ends it early; "
    "anything after them would be read by no client (ruling).",
    applies_to=("stream",),
)
def nothing_after_end(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    kinds = event_types(ctx.op)
    done = [f for f in payloads(ctx) if f.type == kinds.completed]
    ends = [f for f in payloads(ctx) if kinds.error is not None and f.type == kinds.error]
    if len(done) >= ctx.requested_n > 0:
        ends.append(done[ctx.requested_n - 1])
    sentinel = next((f for f in frames(ctx) if f.done), None)
    if sentinel:
        ends.append(sentinel)
    if not ends:
        return []
    end = min(ends, key=lambda f: f.position)
    after = [f for f in payloads(ctx) if f.position > end.position]
    if not after:
        return []
    what = DONE if end.done else str(end.type)
    first = after[0]
    return [
        Problem(
            f"expected nothing after the {what} {_where(end)}, got {len(after)} more event(s) "
            f"starting with {_where(first)} ({short(first.type or first.event.data)})",
            expected=f"end after {_where(end)}",
            actual=f"{len(after)} more event(s)",
        )
    ]


@check(
    id="SSE-TERMINATES",
    level=Level.MUST,
    statement="The stream ends by itself within the run's bounds (time and event count).",
    pointer="responses/200/content/text~1event-stream",
    rationale="Nothing follows the last completed event (ruling), so the stream ends there; one "
    "that never ends holds the client's connection forever.",
)
def terminates(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.exchange.is_stream:
        return None
    kind = ctx.exchange.transport_error
    if kind not in CUT_KINDS:
        return []
    detail = ctx.exchange.transport_detail
    return [
        Problem(
            f"expected the stream to end by itself, got {kind}: {detail}",
            expected="stream ends",
            actual=f"{kind}: {detail}",
        )
    ]


@check(
    id="SSE-NO-ERROR-EVENT",
    level=Level.MUST,
    statement="A valid streamed request is not answered with an `error` event.",
    pointer=f"{STREAM}/properties/type",
    rationale="The `type` enum names an `error` event; for a valid request it means the n images "
    "the 200 stream owes (ruling) were not served.",
    applies_to=("stream",),
    subject=lambda op: None if event_types(op).error else "the stream declares no error event type",
)
def no_error_event(ctx: ExchangeContext) -> list[Problem] | None:
    kind = event_types(ctx.op).error
    if not stream_answer(ctx) or kind is None:
        return None
    errors = [f for f in payloads(ctx) if f.type == kind]
    return [
        Problem(
            f"expected no {kind} event for a valid request, got one at {_where(f)}"
            f"{_error_text(f.payload)}",
            expected=f"no {kind} event",
            actual=short(f.payload),
        )
        for f in errors[:MAX_PROBLEMS]
    ]


@check(
    id="SSE-IMAGE-SIZE",
    level=Level.MUST,
    statement="Each completed event carries a base64 image of the requested size (auto: any "
    "listed size).",
    pointer=f"{STREAM}/properties/b64_json",
    rationale="The stream carries each image as base64 and `size` applies to it as to a JSON "
    "answer; `auto` lets the gateway choose among the listed sizes (ruling).",
    applies_to=("stream",),
)
def image_size(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    completed = completed_frames(ctx)
    if not completed:
        return None
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    problems = []
    for frame in completed:
        image = _frame_image(ctx, frame)
        if image.error:
            problems.append(
                Problem(
                    f"expected {_where(frame)} b64_json to be plain base64 of a PNG/JPEG/WebP "
                    f"image, got {image.error}",
                    expected="base64 PNG/JPEG/WebP",
                    actual=image.error,
                    image=image.data if image.kind else None,
                )
            )
        elif sizes is not None:
            problem = size_problem(image, sizes, f"the image of {_where(frame)}")
            if problem:
                problems.append(problem)
    return problems


@check(
    id="SSE-IMAGE-WHOLE",
    level=Level.MUST,
    statement="Each completed event's image decodes completely (no truncated PNG, JPEG without "
    "its end marker or short WebP), within the decoding pixel cap.",
    pointer=f"{STREAM}/properties/b64_json",
    rationale="A completed event delivers the image (ruling: every delivered image decodes "
    "whole); a valid header over truncated data is no usable image.",
)
def image_whole(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    images = [(f, _frame_image(ctx, f)) for f in completed_frames(ctx)]
    images = [(f, image) for f, image in images if not image.error]
    if not images:
        return None  # no readable image: SSE-IMAGE-SIZE says why
    found = (whole_problem(image, f"the image of {_where(f)}") for f, image in images)
    return [p for p in found if p][:MAX_PROBLEMS]


@check(
    id="SSE-PARTIAL-IMAGE",
    level=Level.MUST,
    statement="A partial image that decodes whole has the requested size (auto: any listed size); "
    "one that is not a whole image is not judged.",
    pointer=f"{STREAM}/properties/b64_json",
    rationale="The spec calls a partial's b64_json a chunk of image data, so it need not be a "
    "whole image (a chunk of a PNG still starts with a PNG header); one that decodes whole is an "
    "image and `size` applies to it like to any other (ruling).",
)
def partial_image(ctx: ExchangeContext) -> list[Problem] | None:
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    if not stream_answer(ctx) or sizes is None:
        return None
    images = [(f, _frame_image(ctx, f)) for f in partial_frames(ctx)]
    images = [(f, image) for f, image in images if image.whole]
    if not images:
        return None
    found = (size_problem(image, sizes, f"the partial image of {_where(f)}") for f, image in images)
    return [p for p in found if p][:MAX_PROBLEMS]


def _reported_images(ctx: ExchangeContext, name: str) -> list[tuple[Frame, DecodedImage]]:
    """Events that report `name` and carry a whole image (completed, or a whole partial)."""
    if not stream_answer(ctx):
        return []
    carrying = [*partial_frames(ctx), *completed_frames(ctx)]
    reported = [f for f in carrying if isinstance(f.payload, dict) and name in f.payload]
    images = [(f, _frame_image(ctx, f)) for f in reported]
    return sorted(
        ((f, image) for f, image in images if image.whole), key=lambda pair: pair[0].position
    )


@check(
    id="SSE-OUTPUT-FORMAT",
    level=Level.MUST,
    statement="An event's reported `output_format` (png, jpeg, webp) names the format of its "
    "image.",
    pointer=f"{STREAM}/properties/output_format",
    rationale="The spec calls it the output format used: an event describes its own image, so "
    "another format misleads every client that stores it (ruling).",
)
def output_format(ctx: ExchangeContext) -> list[Problem] | None:
    images = [
        (f, image)
        for f, image in _reported_images(ctx, "output_format")
        if named_format(f.payload["output_format"])
    ]
    if not images:
        return None
    found = (
        format_problem(image, f.payload["output_format"], f"the image of {_where(f)}")
        for f, image in images
    )
    return [p for p in found if p][:MAX_PROBLEMS]


@check(
    id="SSE-BACKGROUND-ALPHA",
    level=Level.SHOULD,
    statement="An event that reports `background: transparent` carries an image with an alpha "
    "channel.",
    pointer=f"{STREAM}/properties/background",
    rationale="The spec calls it the background type used, but names no values and no image mode: "
    "a transparent background without alpha contradicts the report, a warning (ruling).",
)
def background_alpha(ctx: ExchangeContext) -> list[Problem] | None:
    images = [
        (f, image)
        for f, image in _reported_images(ctx, "background")
        if str(f.payload["background"]).strip().lower() == "transparent"
    ]
    if not images:
        return None
    found = (alpha_problem(image, f"the image of {_where(f)}") for f, image in images)
    return [p for p in found if p][:MAX_PROBLEMS]


@check(
    id="SSE-EXTENSIONS-HONOURED",
    level=Level.SHOULD,
    statement="OpenAI's `output_format`, `background: transparent` and `partial_images: k`, when "
    "sent with a stream, take effect: images of that format, with alpha, at most k partial events "
    "per image with `partial_image_index` 0..k-1.",
    pointer="requestBody/content/application~1json/schema",
    rationale="The fields are not in the spec, so valid input a gateway should accept; the spec "
    "does not promise their effect, so ignoring them is a warning (ruling).",
)
def extensions_honoured(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    wanted = asked(ctx)
    limit = ctx.case.field("partial_images", ctx.op)
    limit = limit if is_int(limit) and limit >= 0 else None
    if not (wanted.kind or wanted.transparent or limit is not None):
        return None
    images = [(f"the image of {_where(f)}", _frame_image(ctx, f)) for f in completed_frames(ctx)]
    problems = effect_problems(wanted, images)
    if limit is not None:
        problems.extend(_partial_problems(ctx, limit))
    return problems[:MAX_PROBLEMS]


def _partial_problems(ctx: ExchangeContext, limit: int) -> list[Problem]:
    found = partial_frames(ctx)
    problems = []
    if len(found) > limit * ctx.requested_n:
        most = limit * ctx.requested_n
        problems.append(
            Problem(
                f"expected at most {most} partial event(s) (partial_images {limit} for "
                f"{ctx.requested_n} image(s)), got {len(found)}",
                expected=f"<= {most}",
                actual=str(len(found)),
            )
        )
    for frame in found:
        index = (
            frame.payload.get("partial_image_index") if isinstance(frame.payload, dict) else None
        )
        if is_int(index) and not 0 <= index < limit:
            problems.append(
                Problem(
                    f"expected {_where(frame)} partial_image_index in 0..{limit - 1} "
                    f"(partial_images {limit}), got {index}",
                    expected=f"0..{limit - 1}" if limit else "no partial events",
                    actual=str(index),
                )
            )
    return problems


@check(
    id="SSE-ECHO",
    level=Level.MUST,
    statement="`size` and `quality` reported in events match the request (auto: any listed size; "
    "a `quality` outside the request's enum is not compared).",
    pointer=f"{STREAM}/properties/size",
    rationale="As in the JSON answer (IMG-ECHO), a reported setting that differs from the request "
    "says it was not applied; `auto` lets the gateway choose among the listed sizes (ruling).",
)
def echo(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    judged, problems = False, []
    for frame in objects(ctx):
        seen, found = echo_problems(ctx, frame.payload, _where(frame), SSE)
        judged = judged or seen
        problems.extend(found)
    return problems[:MAX_PROBLEMS] if judged else None


@check(
    id="SSE-EVENT-NAME",
    level=Level.MUST,
    statement="An `event:` line, when present (other than the default `message`), names the same "
    "type as the event data's `type`.",
    pointer=f"{STREAM}/properties/type",
    rationale="Both are optional; when both are present they name the same type (ruling), since a "
    "client may dispatch on either. `message` is what SSE calls an unnamed event, so it names "
    "nothing.",
)
def event_name(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    named = [
        f
        for f in objects(ctx)
        if isinstance(f.payload.get("type"), str) and f.event.event not in ("", None, DEFAULT_NAME)
    ]
    if not named:
        return None
    return [
        Problem(
            f"expected the event: line of {_where(f)} to name {f.payload['type']} like its data, "
            f"got {short(f.event.event)}",
            expected=str(f.payload["type"]),
            actual=str(f.event.event),
        )
        for f in named
        if f.event.event != f.payload["type"]
    ][:MAX_PROBLEMS]


@check(
    id="SSE-USAGE-SUM",
    level=Level.MUST,
    statement="`usage` in an event, when present, adds up: total = input + output; details sum to "
    "totals.",
    pointer=f"{STREAM}/properties/usage",
    rationale="As in the JSON body, `total_tokens` is the total used (input plus output) and each "
    "`*_details` splits its count into image and text tokens; absent counts are allowed.",
    applies_to=("stream",),
)
def usage_sum(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    with_usage = [f for f in objects(ctx) if isinstance(f.payload.get("usage"), dict)]
    if not with_usage:
        return None
    usage_schema = ctx.op.response_field(200, SSE, "usage")
    problems: list[Problem] = []
    for frame in with_usage:
        where = f"{_where(frame)} usage"
        problems.extend(usage_problems(frame.payload["usage"], usage_schema, where))
    return problems[:MAX_PROBLEMS]


@check(
    id="SSE-CREATED-AT-SECONDS",
    level=Level.MUST,
    statement="`created_at`, when present, is a unix timestamp in seconds: not in the future (a "
    "day of clock skew allowed), not before 2020.",
    pointer=f"{STREAM}/properties/created_at",
    rationale="The spec calls `created_at` the timestamp when the chunk was created (`format: "
    "int64`, like `created`); milliseconds, zero or a future time are wrong data, while a "
    "replayed cached stream may carry an old time.",
    applies_to=("stream",),
)
def created_at_seconds(ctx: ExchangeContext) -> list[Problem] | None:
    if not stream_answer(ctx):
        return None
    stamped = [f for f in objects(ctx) if is_int(f.payload.get("created_at"))]
    if not stamped:
        return None
    found = (timestamp_problem(f.payload["created_at"], f"{_where(f)} created_at") for f in stamped)
    return [p for p in found if p][:MAX_PROBLEMS]


@check(
    id="SSE-PARITY",
    level=Level.MUST,
    statement="The same request streamed and not streamed yields the same number of images of the "
    "same size.",
    pointer="requestBody/content/application~1json/schema/properties/stream",
    rationale="The spec's `stream` says only how images are sent (`as base64 chunks via SSE`), "
    "not which; a difference means one mode ignores part of the request (size auto excepted: the "
    "gateway may choose each time, ruling).",
    scope="run",
    applies_to=("parity",),
    fetches=True,
)
def parity(ctx: RunContext) -> list[tuple[Exchange, list[Problem]]] | None:
    groups: dict[str, list[ExchangeContext]] = defaultdict(list)
    for exchange in ctx.exchanges:
        for tag in exchange.case.tags:
            if tag.startswith(PARITY_PREFIX):
                groups[tag].append(ExchangeContext(ctx.spec, ctx.op, exchange, ctx.fetch))
    outcomes = []
    for members in groups.values():
        plain = next((m for m in members if _usable_json(m)), None)
        if plain is None:
            continue
        for streamed in (m for m in members if stream_answer(m) and not m.exchange.transport_error):
            outcomes.append((streamed.exchange, _parity_problems(plain, streamed)))
    return outcomes or None


def _usable_json(ctx: ExchangeContext) -> bool:
    return (
        ctx.valid_request
        and not ctx.streamed
        and ctx.answered
        and ctx.status == 200
        and ctx.exchange.media_type == JSON
        and isinstance(ctx.body, dict)
    )


def _parity_problems(plain: ExchangeContext, streamed: ExchangeContext) -> list[Problem]:
    items = data_items(plain)
    completed = completed_frames(streamed)
    if len(items) != len(completed):
        return [
            Problem(
                f"expected the stream to carry as many images as the JSON answer ({len(items)}), "
                f"got {len(completed)}",
                expected=str(len(items)),
                actual=str(len(completed)),
            )
        ]
    requested = streamed.requested_size
    if requested is not None and not parse_size(requested):
        return []  # the gateway may choose the size anew for each request
    plain_sizes = _dimensions([_item_image(plain, i, item) for i, item in items])
    stream_sizes = _dimensions([_frame_image(streamed, f) for f in completed])
    if len(plain_sizes) != len(items) or len(stream_sizes) != len(completed):
        return []  # sizes unknown on one side (unreachable URLs, undecodable images)
    if sorted(plain_sizes) == sorted(stream_sizes):
        return []
    expected, actual = ", ".join(sorted(plain_sizes)), ", ".join(sorted(stream_sizes))
    return [
        Problem(
            f"expected streamed images of the JSON answer's sizes {expected}, got {actual}",
            expected=expected,
            actual=actual,
        )
    ]


def _item_image(ctx: ExchangeContext, i: int, item: dict[str, Any]) -> DecodedImage | None:
    """The image of a data item: its base64, else what its http(s) URL serves."""
    if item.get("b64_json") is not None:
        return cached_image(ctx, f"data[{i}]", item["b64_json"])
    url = item.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return fetched(ctx, url).image
    return None


def _frame_image(ctx: ExchangeContext, frame: Frame) -> DecodedImage:
    return cached_image(ctx, f"event[{frame.position}]", frame.payload.get("b64_json"))


def _dimensions(images: list[DecodedImage | None]) -> list[str]:
    return [image.dimensions for image in images if image and image.width is not None]


def _error_text(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error")
    message = error.get("message") if isinstance(error, dict) else payload.get("message")
    return f": {short(message)}" if isinstance(message, str) and message else ""
