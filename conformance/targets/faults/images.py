"""Defects of the images themselves: encoding, pixel size, URLs that are relative or dead."""

from __future__ import annotations

import base64

from conformance.targets.faults.edits import items
from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import GatewayRequest
from conformance.targets.png import parse_size, render

MIME_LINE = 76
HTML_PAGE = b"<!doctype html><html><body><h1>Sign in to view this image</h1></body></html>"
JPEG_SIZE = "1792x1024"


def _data_uri(req: GatewayRequest, body: Body) -> Body:
    for item in items(body):
        if "b64_json" in item:
            item["b64_json"] = "data:image/png;base64," + item["b64_json"]
    return body


def _mime_lines(req: GatewayRequest, body: Body) -> Body:
    if req.quality != "hd":
        return body
    for item in items(body):
        if "b64_json" in item:
            item["b64_json"] = base64.encodebytes(base64.b64decode(item["b64_json"])).decode()
    return body


def _double_encoded(req: GatewayRequest, body: Body) -> Body:
    if req.quality != "standard":
        return body
    for item in items(body):
        if "b64_json" in item:
            item["b64_json"] = base64.b64encode(item["b64_json"].encode()).decode()
    return body


def _swapped_1536(req: GatewayRequest, index: int, png: bytes) -> bytes:
    if req.size != "1536x1024":
        return png
    width, height = parse_size(req.size)
    return render(height, width)


def _relative_url(req: GatewayRequest, body: Body) -> Body:
    for item in items(body):
        if "url" in item:
            item["url"] = item["url"].removeprefix(req.base_url)
    return body


def _unstored_urls(req: GatewayRequest, body: Body) -> Body:
    for item in items(body)[1:]:
        if "url" in item:
            item["url"] = item["url"].replace("/generated/", "/generated/pending-")
    return body


def _cut_b64(req: GatewayRequest, index: int, png: bytes) -> bytes:
    if req.stream or req.response_format != "b64_json":
        return png
    return png[: len(png) * 2 // 3]


def _html_at_url(req: GatewayRequest, index: int, png: bytes) -> bytes:
    if req.stream or req.response_format != "url":
        return png
    return HTML_PAGE


def _jpeg_for_1792(req: GatewayRequest, index: int, png: bytes) -> bytes:
    if req.stream or req.size != JPEG_SIZE or req.sent("output_format"):
        return png
    return render(*parse_size(req.size), "JPEG")


def _transparent_report(req: GatewayRequest, body: Body) -> Body:
    if not req.sent("background"):
        body["background"] = "transparent"
    return body


def _extensions_asked(req: GatewayRequest) -> bool:
    return not req.stream and (req.sent("output_format") or req.sent("background"))


def _plain_png(req: GatewayRequest, index: int, png: bytes) -> bytes:
    return render(*parse_size(req.size)) if _extensions_asked(req) else png


def _plain_png_report(req: GatewayRequest, body: Body) -> Body:
    if _extensions_asked(req):
        body["output_format"] = "png"
        body.pop("background", None)
    return body


FAULTS = [
    Fault(
        id="b64-data-uri-prefix",
        summary="b64_json carries a data:image/png;base64, prefix",
        expected_check="IMG-B64-DECODES",
        body=_data_uri,
    ),
    Fault(
        id="b64-mime-line-breaks-for-hd",
        summary="hd images are base64 with MIME line breaks every 76 characters",
        expected_check="IMG-B64-DECODES",
        body=_mime_lines,
    ),
    Fault(
        id="b64-double-encoded-for-standard",
        summary="standard-quality images are base64-encoded twice (base64 of the base64 text)",
        expected_check="IMG-B64-DECODES",
        body=_double_encoded,
    ),
    Fault(
        id="1536x1024-rendered-portrait",
        summary="1536x1024 requests get a 1024x1536 image (width and height swapped)",
        expected_check="IMG-SIZE",
        image=_swapped_1536,
    ),
    Fault(
        id="relative-image-url",
        summary="image URLs are relative paths (/generated/...png)",
        expected_check="IMG-URL-ABSOLUTE",
        body=_relative_url,
    ),
    Fault(
        id="urls-after-first-not-stored",
        summary="for n >= 2 only the first image is stored; the other URLs answer 404",
        expected_check="IMG-URL-FETCH",
        body=_unstored_urls,
    ),
    Fault(
        id="b64-images-truncated",
        summary="b64_json images are cut after two thirds of their bytes (no IEND, short IDAT)",
        expected_check="IMG-WHOLE",
        image=_cut_b64,
    ),
    Fault(
        id="url-serves-html-page",
        summary="image URLs answer 200 with an HTML sign-in page instead of the image",
        expected_check="IMG-URL-CONTENT",
        image=_html_at_url,
    ),
    Fault(
        id="1792x1024-jpeg-reported-png",
        summary="1792x1024 images are re-encoded as JPEG while output_format still says png",
        expected_check="IMG-OUTPUT-FORMAT",
        image=_jpeg_for_1792,
    ),
    Fault(
        id="transparent-reported-for-opaque",
        summary="JSON answers report background transparent for opaque images nobody asked for",
        expected_check="IMG-BACKGROUND-ALPHA",
        body=_transparent_report,
    ),
    Fault(
        id="extension-fields-dropped",
        summary="output_format and background are dropped on the way upstream: opaque PNGs, "
        "reported as png",
        expected_check="IMG-EXTENSIONS-HONOURED",
        image=_plain_png,
        body=_plain_png_report,
    ),
]
