"""Checks of the images in a 200 JSON body: base64 payloads, dimensions, URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from conformance.checks._util import (
    Fetched,
    allowed_sizes,
    alpha_problem,
    asked,
    cached_image,
    data_items,
    effect_problems,
    fetched,
    format_problem,
    json_answer,
    short,
    size_problem,
    whole_problem,
)
from conformance.checks.imaging import DecodedImage, named_format
from conformance.checks.registry import ExchangeContext, Problem, check
from conformance.model import Level

ITEMS = "responses/200/content/application~1json/schema/properties/data/items/properties"


def _b64_images(ctx: ExchangeContext) -> list[tuple[int, DecodedImage]]:
    """Each data item's `b64_json`, decoded once per exchange."""
    return [
        (i, cached_image(ctx, f"data[{i}]", item["b64_json"]))
        for i, item in data_items(ctx)
        if "b64_json" in item and item["b64_json"] is not None
    ]


def _urls(ctx: ExchangeContext) -> list[tuple[int, Any]]:
    return [(i, item["url"]) for i, item in data_items(ctx) if item.get("url") is not None]


@check(
    id="IMG-B64-DECODES",
    level=Level.MUST,
    statement="Every `b64_json` is plain base64 (no data: prefix) of a PNG, JPEG or WebP image.",
    pointer=f"{ITEMS}/b64_json",
    rationale="The spec calls the field base64-encoded image data; a data: URI, broken base64 or "
    "bytes that are no image cannot be used as delivered.",
    applies_to=("json",),
)
def b64_decodes(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    images = _b64_images(ctx)
    if not images:
        return None
    return [
        Problem(
            f"expected data[{i}].b64_json to be plain base64 of a PNG/JPEG/WebP image, "
            f"got {image.error}",
            expected="base64 PNG/JPEG/WebP",
            actual=image.error,
            image=image.data if image.kind else None,
        )
        for i, image in images
        if image.error
    ]


@check(
    id="IMG-WHOLE",
    level=Level.MUST,
    statement="Every `b64_json` image decodes completely (no truncated PNG, JPEG without its end "
    "marker or short WebP), within the decoding pixel cap.",
    pointer=f"{ITEMS}/b64_json",
    rationale="A valid header over truncated data is no usable image (ruling: every delivered "
    "image decodes whole); an image that declares more pixels than the cap is not decoded, so a "
    "decompression bomb fails instead of exhausting the test host.",
)
def b64_whole(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    images = [(i, image) for i, image in _b64_images(ctx) if not image.error]
    if not images:
        return None  # nothing with a readable header: IMG-B64-DECODES says why
    found = (whole_problem(image, f"data[{i}].b64_json") for i, image in images)
    return [p for p in found if p]


@check(
    id="IMG-SIZE",
    level=Level.MUST,
    statement="Each decoded image has the requested width x height (for `auto`, any listed size).",
    pointer="requestBody/content/application~1json/schema/properties/size",
    rationale="`size` is the size of the generated image; an image of another size ignores the "
    "request; `auto` lets the gateway choose among the listed sizes (ruling).",
    applies_to=("json",),
)
def image_size(ctx: ExchangeContext) -> list[Problem] | None:
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    if not json_answer(ctx) or sizes is None:
        return None
    images = [(i, image) for i, image in _b64_images(ctx) if image.width is not None]
    if not images:
        return None
    found = (size_problem(image, sizes, f"data[{i}] image") for i, image in images)
    return [p for p in found if p]


@check(
    id="IMG-URL-ABSOLUTE",
    level=Level.MUST,
    statement="Every `url` is an absolute http(s) URI.",
    pointer=f"{ITEMS}/url",
    rationale="The field is declared `format: uri` and is handed to clients to fetch; a relative "
    "or non-http URL cannot be fetched.",
    applies_to=("json",),
)
def url_absolute(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    urls = _urls(ctx)
    if not urls:
        return None
    return [
        Problem(
            f"expected data[{i}].url to be an absolute http(s) URI, got {short(url)}",
            expected="absolute http(s) URI",
            actual=short(url),
        )
        for i, url in urls
        if not _absolute_http(url)
    ]


@check(
    id="IMG-URL-FETCH",
    level=Level.SHOULD,
    statement="Every image URL can be fetched from the test host (200).",
    pointer=f"{ITEMS}/url",
    rationale="A URL may be reachable only from the caller's network or expire quickly, so "
    "failing to fetch it from the test host (network error, 4xx/5xx) is a warning, not proof of a "
    "defect (ruling); what a 200 serves is judged by IMG-URL-CONTENT.",
    applies_to=("json",),
    fetches=True,
)
def url_fetch(ctx: ExchangeContext) -> list[Problem] | None:
    judged = _fetched_urls(ctx)
    if judged is None:
        return None
    found = (_fetch_problem(i, got) for i, got in judged)
    return [p for p in found if p]


@check(
    id="IMG-URL-CONTENT",
    level=Level.MUST,
    statement="An image URL fetched with 200 serves a whole PNG, JPEG or WebP image of the "
    "requested size.",
    pointer=f"{ITEMS}/url",
    rationale="The field is the URL of the generated image: a 200 that serves an HTML page, a "
    "broken image or one of another size is the gateway's own answer, not the network's (ruling).",
    fetches=True,
)
def url_content(ctx: ExchangeContext) -> list[Problem] | None:
    judged = [(i, got.image) for i, got in _fetched_urls(ctx) or [] if got.image is not None]
    if not judged:
        return None
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    problems = []
    for i, image in judged:
        where = f"the image at data[{i}].url"
        if image.error:
            problems.append(
                Problem(
                    f"expected {where} to be a PNG/JPEG/WebP image, got {image.error}",
                    expected="PNG/JPEG/WebP",
                    actual=image.error,
                    image=image.data if image.kind else None,
                )
            )
            continue
        found = whole_problem(image, where) or (
            size_problem(image, sizes, where) if sizes else None
        )
        if found:
            problems.append(found)
    return problems


def _fetched_urls(ctx: ExchangeContext) -> list[tuple[int, Fetched]] | None:
    """The absolute http(s) image URLs of a JSON answer, fetched once; None when none was
    fetched (no URLs, request budget spent, run stopped)."""
    if not json_answer(ctx):
        return None
    urls = [(i, url) for i, url in _urls(ctx) if _absolute_http(url)]
    judged = [(i, got) for i, url in urls if not (got := fetched(ctx, url)).skipped]
    return judged or None


def _fetch_problem(i: int, got: Fetched) -> Problem | None:
    if got.error or got.status is None:
        return Problem(
            f"expected data[{i}].url to be fetchable, got {got.error or 'no response'} "
            "(the URL may be unreachable from the test host)",
            expected="200 with an image",
            actual=str(got.error or "no response"),
        )
    if got.status != 200:
        return Problem(
            f"expected 200 fetching data[{i}].url, got {got.status} (the URL may have expired, "
            "need credentials or a redirect, or be unreachable from the test host)",
            expected="200",
            actual=str(got.status),
        )
    return None


def delivered(ctx: ExchangeContext) -> list[tuple[str, DecodedImage]]:
    """Every image of a JSON answer that could be read: base64 items and fetched URLs."""
    found = [(f"data[{i}] image", image) for i, image in _b64_images(ctx) if not image.error]
    for i, got in _fetched_urls(ctx) or []:
        if got.image is not None and not got.image.error:
            found.append((f"the image at data[{i}].url", got.image))
    return found


@check(
    id="IMG-OUTPUT-FORMAT",
    level=Level.MUST,
    statement="A reported `output_format` (png, jpeg, webp) names the format of every delivered "
    "image.",
    pointer="responses/200/content/application~1json/schema/properties/output_format",
    rationale="The spec calls it the output format used: the response describes its own images, "
    "so a format other than the bytes' misleads every client that stores or serves them (ruling).",
    fetches=True,
)
def output_format(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    if (
        not json_answer(ctx)
        or not isinstance(body, dict)
        or not named_format(body.get("output_format"))
    ):
        return None
    images = [(where, image) for where, image in delivered(ctx) if image.whole]
    if not images:
        return None
    found = (format_problem(image, body["output_format"], where) for where, image in images)
    return [p for p in found if p]


@check(
    id="IMG-BACKGROUND-ALPHA",
    level=Level.SHOULD,
    statement="A reported `background: transparent` goes with images that have an alpha channel.",
    pointer="responses/200/content/application~1json/schema/properties/background",
    rationale="The spec calls it the background type used, but names no values and no image mode: "
    "a transparent background without alpha contradicts the report, and whether a format keeps "
    "transparency is the provider's, so it is a warning (ruling).",
    fetches=True,
)
def background_alpha(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    if not json_answer(ctx) or not isinstance(body, dict) or not _transparent(body):
        return None
    images = [(where, image) for where, image in delivered(ctx) if image.whole]
    if not images:
        return None
    found = (alpha_problem(image, where) for where, image in images)
    return [p for p in found if p]


@check(
    id="IMG-EXTENSIONS-HONOURED",
    level=Level.SHOULD,
    statement="OpenAI's `output_format` and `background: transparent`, when sent, take effect: "
    "the images are of that format, and have an alpha channel.",
    pointer="requestBody/content/application~1json/schema",
    rationale="The fields are not in the spec, so valid input a gateway should accept; the spec "
    "does not promise their effect, so ignoring them is a warning (ruling).",
    fetches=True,
)
def extensions_honoured(ctx: ExchangeContext) -> list[Problem] | None:
    wanted = asked(ctx)
    if not json_answer(ctx) or not (wanted.kind or wanted.transparent):
        return None
    images = [(where, image) for where, image in delivered(ctx) if image.whole]
    if not images:
        return None
    return effect_problems(wanted, images)


def _transparent(fields: dict[str, Any]) -> bool:
    value = fields.get("background")
    return isinstance(value, str) and value.strip().lower() == "transparent"


def _absolute_http(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
