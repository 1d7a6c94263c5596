"""Helpers shared by the body, image and stream checks: images, sizes, usage, timestamps."""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
import warnings
from dataclasses import dataclass
from typing import Any, TypeGuard

from PIL import Image

from conformance.checks.registry import ExchangeContext, Problem
from conformance.spec import Operation

SECONDS_PER_DAY = 86_400
EARLIEST_TIMESTAMP = 1_577_836_800
"""2020-01-01T00:00:00Z: no image-generation API answered before it."""
MAX_PROBLEMS = 5
_SIZE = re.compile(r"^(\d+)x(\d+)$")
_MAGIC: tuple[tuple[str, Any], ...] = (
    ("PNG", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("JPEG", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("WebP", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)


@dataclass(frozen=True)
class DecodedImage:
    """An image as far as it could be read: bytes, format by magic bytes, header dimensions."""

    data: bytes | None = None
    kind: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None

    @property
    def dimensions(self) -> str:
        return f"{self.width}x{self.height}"


def is_int(value: Any) -> TypeGuard[int]:
    """An integer that is not a boolean (JSON Schema's notion of an integer value)."""
    return isinstance(value, int) and not isinstance(value, bool)


def read_image(data: bytes) -> DecodedImage:
    """Identify `data` by magic bytes and read its dimensions from the header only."""
    kind = next((name for name, matches in _MAGIC if matches(data)), None)
    if kind is None:
        return DecodedImage(data=data, error=f"bytes starting {data[:8]!r} are not PNG/JPEG/WebP")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return DecodedImage(data=data, kind=kind, error=f"{kind} header unreadable: {exc}")
    return DecodedImage(data=data, kind=kind, width=width, height=height)


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
        image=image.data,
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
    errors = sorted(ctx.op.validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    problems = []
    for error in errors[:MAX_PROBLEMS]:
        path = where + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.path)
        expected = f"{error.validator} {short(error.validator_value)}"
        problems.append(
            Problem(
                f"expected {path} to satisfy {expected}, got {short(error.instance)}",
                expected=expected,
                actual=short(error.instance),
            )
        )
    return problems


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
