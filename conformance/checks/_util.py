"""Helpers shared by the body, image and stream checks: images, sizes, usage, timestamps."""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

from conformance.checks.imaging import DecodedImage, named_format, read_image
from conformance.checks.registry import ExchangeContext, Problem
from conformance.spec import JSON, Operation
from conformance.spec.schema import fields

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SECONDS_PER_DAY = 86_400
EARLIEST_TIMESTAMP = 1_577_836_800
"""2020-01-01T00:00:00Z: no image-generation API answered before it."""
MAX_PROBLEMS = 5
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def is_int(value: Any) -> TypeGuard[int]:
    """An integer that is not a boolean (JSON Schema's notion of an integer value)."""
    return isinstance(value, int) and not isinstance(value, bool)


def decode_b64_image(text: Any) -> DecodedImage:
    """Decode plain base64 (no `data:` URI prefix, no whitespace) and read the image header."""
    if not isinstance(text, str) or not text:
        return DecodedImage(error=f"{short(text)} instead of a base64 string")
    if text.startswith("data:"):
        return DecodedImage(error=f"a data: URI prefix ({text[:30]}...)")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        return DecodedImage(error=f"invalid base64 ({exc})")
    return read_image(data)


def cached_image(ctx: ExchangeContext, key: str, text: Any) -> DecodedImage:
    """`decode_b64_image(text)` computed once per exchange under `key`."""
    slot = f"image:{key}"
    found = ctx.cache.get(slot)
    if found is None:
        found = decode_b64_image(text)
        ctx.cache[slot] = found
    assert isinstance(found, DecodedImage)
    return found


@dataclass(frozen=True)
class Fetched:
    """A URL fetched once per exchange: status, transport error, the image when status is 200."""

    status: int | None
    error: str | None
    image: DecodedImage | None
    skipped: bool = False
    """The suite did not fetch (budget spent) or abandoned the fetch (run stopped)."""


def fetched(ctx: ExchangeContext, url: str) -> Fetched:
    """GET `url` through `ctx.fetch` once per exchange and read the image header."""
    slot = f"fetch:{url}"
    found = ctx.cache.get(slot)
    if found is None:
        result = ctx.fetch(url)
        ok = result.status == 200 and result.error is None
        image = read_image(result.body) if ok else None
        found = Fetched(result.status, result.error_text or None, image, result.skipped)
        ctx.cache[slot] = found
    assert isinstance(found, Fetched)
    return found


def parse_size(value: Any) -> tuple[int, int] | None:
    """`"1024x1792"` -> (1024, 1792); None for anything that is not WIDTHxHEIGHT."""
    match = _SIZE.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def allowed_sizes(op: Operation, requested: str | None) -> list[str] | None:
    """Sizes a conforming image may have; None when the request leaves size unconstrained.

    A requested WIDTHxHEIGHT allows only itself; a requested value that is not a size (the
    spec's `auto`) lets the gateway choose any size listed in the spec's enum.
    """
    if requested is None:
        return None
    if parse_size(requested):
        return [requested]
    return [s for s in op.enum("size") if parse_size(s)]


def size_problem(image: DecodedImage, allowed: list[str], where: str) -> Problem | None:
    """A problem when a decoded image's dimensions are not one of `allowed`."""
    if image.width is None or image.dimensions in allowed:
        return None
    expected = " or ".join(allowed) if len(allowed) <= 3 else f"one of {', '.join(allowed)}"
    return Problem(
        f"expected {where} to be {expected}, got {image.dimensions}",
        expected=expected,
        actual=image.dimensions,
        image=image.data if image.whole else None,  # no thumbnail of broken or oversized data
    )


def usage_problems(usage: Any, schema: dict[str, Any] | None, where: str) -> list[Problem]:
    """Token arithmetic: total = input + output; `X_details` parts sum to `X` when all present.

    The detail parts are the properties the spec lists for each `*_details` object; when only
    some are present their sum may not exceed the total.
    """
    if not isinstance(usage, dict):
        return []
    problems: list[Problem] = []
    total, given, made = (usage.get(k) for k in ("total_tokens", "input_tokens", "output_tokens"))
    if is_int(total) and is_int(given) and is_int(made) and total != given + made:
        problems.append(
            Problem(
                f"expected {where}.total_tokens = input_tokens + output_tokens = {given + made}, "
                f"got {total}",
                expected=str(given + made),
                actual=str(total),
            )
        )
    declared = (schema or {}).get("properties", {})
    for name, details in usage.items():
        base = name.removesuffix("_details")
        if base == name or not isinstance(details, dict) or not is_int(usage.get(base)):
            continue
        parts = list(declared.get(name, {}).get("properties", {})) or list(details)
        values = [details[p] for p in parts if is_int(details.get(p))]
        if not values:
            continue
        whole = sum(values)
        complete = len(values) == len(parts)
        if (complete and whole != usage[base]) or whole > usage[base]:
            relation = "=" if complete else "<="
            problems.append(
                Problem(
                    f"expected the parts of {where}.{name} to sum {relation} {base} "
                    f"({usage[base]}), got {whole}",
                    expected=f"{relation} {usage[base]}",
                    actual=str(whole),
                )
            )
    return problems


def timestamp_problem(value: Any, where: str, now: float | None = None) -> Problem | None:
    """A problem when an integer timestamp is not unix seconds between 2020 and a day from now.

    The past is left open back to `EARLIEST_TIMESTAMP`: a gateway that replays a cached answer
    reports when the image was made, which may be long ago. Milliseconds, microseconds, zero
    and times in the future are wrong data.
    """
    if not is_int(value):
        return None
    now = time.time() if now is None else now
    latest = int(now) + SECONDS_PER_DAY
    if EARLIEST_TIMESTAMP <= value <= latest:
        return None
    hint = " (looks like milliseconds)" if abs(value / 1000 - now) <= SECONDS_PER_DAY else ""
    expected = f"{EARLIEST_TIMESTAMP}..{latest}"
    return Problem(
        f"expected {where} in unix seconds, not before 2020 nor over a day ahead ({expected}), "
        f"got {value}{hint}",
        expected=expected,
        actual=str(value),
    )


def schema_problems(
    ctx: ExchangeContext, schema: dict[str, Any], instance: Any, where: str
) -> list[Problem]:
    """Validation errors of `instance` against `schema` as problems (the first few)."""
    found = ctx.op.validator(schema).iter_errors(instance)
    errors = sorted(
        (leaf for e in found for leaf in member_errors(e)), key=lambda e: list(e.absolute_path)
    )
    problems = []
    for error in errors[:MAX_PROBLEMS]:
        steps = error.absolute_path
        path = where + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in steps)
        expected = f"{error.validator} {short(error.validator_value)}"
        problems.append(
            Problem(
                f"expected {path} to satisfy {expected}, got {short(error.instance)}",
                expected=expected,
                actual=short(error.instance),
            )
        )
    return problems


def member_errors(error: ValidationError) -> list[ValidationError]:
    """A failed oneOf/anyOf told by the member the value meant: the one its `type` names (a
    stream event's discriminator), else the member that came closest; other errors as they are."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    from jsonschema.exceptions import best_match

    members = error.validator_value if isinstance(error.validator_value, list) else []
    kind = error.instance.get("type") if isinstance(error.instance, dict) else None
    for index, member in enumerate(members):
        named = fields(member).get("type") if isinstance(member, dict) else None
        if kind is not None and named is not None and kind in named.schema.get("enum", []):
            meant = [e for e in error.context if e.schema_path and e.schema_path[0] == index]
            return [leaf for e in meant for leaf in member_errors(e)] or [error]
    closest = best_match(error.context)
    return member_errors(closest) if closest is not None else [error]


def same_json(a: Any, b: Any) -> bool:
    """Whether two JSON values are the same value: as Python's `==`, except that a boolean is
    never a number (`true` is not `1`, `false` is not `0.0`); numbers compare by value (`1` is
    `1.0`, as JSON has one number type)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b)


def short(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_answer(ctx: ExchangeContext) -> bool:
    """A valid, non-streamed request answered 200 with a (non-stream) body."""
    return (
        ctx.answered
        and ctx.valid_request
        and not ctx.streamed
        and ctx.status == 200
        and not ctx.exchange.is_stream
    )


def data_items(ctx: ExchangeContext) -> list[tuple[int, dict[str, Any]]]:
    """The objects of the body's `data` array with their positions."""
    body = ctx.body
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return []
    return [(i, item) for i, item in enumerate(data) if isinstance(item, dict)]


def whole_problem(image: DecodedImage, where: str) -> Problem | None:
    """A problem when an image whose header reads does not decode whole (or was over the cap).

    No thumbnail is attached: the bytes are broken or too large to decode.
    """
    if image.error or not image.incomplete:
        return None
    return Problem(
        f"expected {where} to decode whole, got {image.incomplete}",
        expected="a whole image",
        actual=image.incomplete,
    )


def format_problem(image: DecodedImage, reported: Any, where: str) -> Problem | None:
    """A problem when a whole image is not of the format a reported `output_format` names."""
    named = named_format(reported)
    if named is None or not image.whole or image.kind == named:
        return None
    return Problem(
        f"expected {where} to be {named} (output_format {reported!r}), got {image.kind} bytes",
        expected=named,
        actual=str(image.kind),
        image=image.data,
    )


def alpha_problem(image: DecodedImage, where: str) -> Problem | None:
    """A problem when a whole image that should be transparent has no alpha channel."""
    if not image.whole or image.alpha:
        return None
    return Problem(
        f"expected {where} to have an alpha channel (background transparent), got an opaque "
        f"{image.kind}",
        expected="an alpha channel",
        actual=f"opaque {image.kind}",
        image=image.data,
    )


def echo_problems(
    ctx: ExchangeContext, fields: dict[str, Any], where: str, media_type: str = JSON
) -> tuple[bool, list[Problem]]:
    """Echoed `size` and `quality` in `fields` against the request: (anything judged, problems).

    For `size: auto` any listed size matches; a `quality` echo outside the request's enum (a
    provider's own word such as `high`) is not compared; nor is an echo whose response schema
    (`media_type`'s) closes its enum to every value the request allows there: the document
    forbids the echo it would demand.
    """
    problems: list[Problem] = []
    judged = False
    prefix = f"{where} " if where else ""
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    if sizes is not None and not _echo_allowed(ctx.op, media_type, "size", sizes):
        sizes = None
    if sizes is not None and isinstance(fields.get("size"), str):
        judged = True
        if fields["size"] not in sizes:
            expected = " or ".join(sizes) if len(sizes) <= 3 else f"one of {', '.join(sizes)}"
            problems.append(
                Problem(
                    f"expected {prefix}size {expected}, got {fields['size']}",
                    expected,
                    fields["size"],
                )
            )
    quality = ctx.case.field("quality", ctx.op)
    echoed = fields.get("quality")
    if (
        isinstance(quality, str)
        and isinstance(echoed, str)
        and echoed in ctx.op.enum("quality")
        and _echo_allowed(ctx.op, media_type, "quality", [quality])
    ):
        judged = True
        if echoed != quality:
            problems.append(
                Problem(f"expected {prefix}quality {quality}, got {echoed}", quality, str(echoed))
            )
    return judged, problems


def _echo_allowed(op: Operation, media_type: str, name: str, values: list[str]) -> bool:
    """Whether the response schema lets the field echo one of `values` (an open or absent
    enum does)."""
    view = op.response_field(200, media_type, name)
    listed = view.get("enum")
    return not listed or bool(view.get("openEnum")) or any(v in listed for v in values)


@dataclass(frozen=True)
class Asked:
    """What OpenAI's extension fields in a request ask of its images (None / False: nothing)."""

    kind: str | None
    word: Any
    transparent: bool


def asked(ctx: ExchangeContext) -> Asked:
    """The image format and background a request's `output_format` / `background` ask for;
    transparency only in a format that keeps it (not JPEG)."""
    word = ctx.case.field("output_format", ctx.op)
    kind = named_format(word)
    background = ctx.case.field("background", ctx.op)
    transparent = (
        isinstance(background, str) and background.strip().lower() == "transparent"
    ) and kind != "JPEG"
    return Asked(kind, word, transparent)


def effect_problems(wanted: Asked, images: list[tuple[str, DecodedImage]]) -> list[Problem]:
    """Whole images that are not of the asked format, or opaque when transparency was asked."""
    problems: list[Problem] = []
    for where, image in images:
        if not image.whole:
            continue
        if wanted.kind and image.kind != wanted.kind:
            problems.append(
                Problem(
                    f"expected {where} in the output_format asked for ({wanted.word!r}), got "
                    f"{image.kind}",
                    expected=wanted.kind,
                    actual=str(image.kind),
                    image=image.data,
                )
            )
        elif wanted.transparent and not image.alpha:
            problems.append(
                Problem(
                    f"expected {where} to have an alpha channel (background transparent asked "
                    f"for), got an opaque {image.kind}",
                    expected="an alpha channel",
                    actual=f"opaque {image.kind}",
                    image=image.data,
                )
            )
    return problems
