"""Defects of the images themselves: encoding, pixel size, URLs that are relative or dead."""

from __future__ import annotations

import base64

from conformance.targets.faults.edits import items
from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import GatewayRequest
from conformance.targets.png import parse_size, render

MIME_LINE = 76


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
]
