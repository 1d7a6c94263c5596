"""Checks of the images in a 200 JSON body: base64 payloads, dimensions, URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from conformance.checks._util import (
    DecodedImage,
    Fetched,
    allowed_sizes,
    cached_image,
    data_items,
    fetched,
    json_answer,
    short,
    size_problem,
)
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
    "IMG-B64-DECODES",
    Level.MUST,
    "Every `b64_json` is plain base64 (no data: prefix) of a PNG, JPEG or WebP image.",
    f"{ITEMS}/b64_json",
    "The spec calls the field base64-encoded image data; a data: URI, broken base64 or bytes "
    "that are no image cannot be used as delivered.",
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
    "IMG-SIZE",
    Level.MUST,
    "Each decoded image has the requested width x height (for `auto`, any listed size).",
    "requestBody/content/application~1json/schema/properties/size",
    "`size` is the size of the generated image; an image of another size ignores the request; "
    "`auto` lets the gateway choose among the listed sizes (ruling).",
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
    "IMG-URL-ABSOLUTE",
    Level.MUST,
    "Every `url` is an absolute http(s) URI.",
    f"{ITEMS}/url",
    "The field is declared `format: uri` and is handed to clients to fetch; a relative or "
    "non-http URL cannot be fetched.",
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
    "IMG-URL-FETCH",
    Level.SHOULD,
    "Every image URL can be fetched (200) and holds an image of the requested size.",
    f"{ITEMS}/url",
    "A URL may be reachable only from the caller's network or expire quickly, so failing to "
    "fetch it from the test host is a warning, not proof of a defect.",
)
def url_fetch(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    urls = [(i, url) for i, url in _urls(ctx) if _absolute_http(url)]
    if not urls:
        return None
    sizes = allowed_sizes(ctx.op, ctx.requested_size)
    judged = [(i, got) for i, url in urls if not (got := fetched(ctx, url)).skipped]
    if not judged:
        return None  # the suite fetched none of them (request budget spent, run stopped)
    found = (_fetch_problem(i, got, sizes) for i, got in judged)
    return [p for p in found if p]


def _fetch_problem(i: int, got: Fetched, sizes: list[str] | None) -> Problem | None:
    if got.error or got.status is None:
        return Problem(
            f"expected data[{i}].url to be fetchable, got {got.error or 'no response'} "
            "(the URL may be unreachable from the test host)",
            expected="200 with an image",
            actual=str(got.error or "no response"),
        )
    if got.status != 200 or got.image is None:
        return Problem(
            f"expected 200 fetching data[{i}].url, got {got.status} (the URL may have expired, "
            "need credentials or a redirect, or be unreachable from the test host)",
            expected="200",
            actual=str(got.status),
        )
    image = got.image
    if image.error:
        return Problem(
            f"expected data[{i}].url to serve a PNG/JPEG/WebP image, got {image.error}",
            expected="PNG/JPEG/WebP",
            actual=image.error,
            image=image.data if image.kind else None,
        )
    return size_problem(image, sizes, f"the image at data[{i}].url") if sizes else None


def _absolute_http(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
