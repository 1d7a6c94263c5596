"""Defects of the JSON body of a 200: schema, image count, format, index, created, usage, echo."""

from __future__ import annotations

import base64

from conformance.targets.faults.edits import has_text, items
from conformance.targets.faults.model import Body, Fault
from conformance.targets.messages import GatewayRequest
from conformance.targets.payload import usage
from conformance.targets.png import parse_size, render

LEGACY_MAX_IMAGES = 4
OFFLOADED_SIZES = ("1792x1024", "1536x1024")


def _null_revised_prompt(req: GatewayRequest, body: Body) -> Body:
    if not req.sent("style"):
        for item in items(body):
            item["revised_prompt"] = None
    return body


def _string_index(req: GatewayRequest, body: Body) -> Body:
    if req.response_format == "url":
        for item in items(body):
            item["index"] = str(item["index"])
    return body


def _legacy_cap(req: GatewayRequest, body: Body) -> Body:
    if req.n > LEGACY_MAX_IMAGES:
        body["data"] = body["data"][:LEGACY_MAX_IMAGES]
        body["usage"] = usage(req, LEGACY_MAX_IMAGES)
    return body


def _default_format_b64(req: GatewayRequest, body: Body) -> Body:
    if req.sent("response_format"):
        return body
    return _as_b64(body)


def _offload_large(req: GatewayRequest, body: Body) -> Body:
    if req.response_format != "b64_json" or req.size not in OFFLOADED_SIZES:
        return body
    for item in items(body):
        item["url"] = f"{req.base_url}/generated/offloaded-{item['index']}.png"
        del item["b64_json"]
    return body


def _as_b64(body: Body) -> Body:
    image = render(*parse_size(body.get("size")))
    for item in items(body):
        if "url" in item:
            del item["url"]
            item["b64_json"] = base64.b64encode(image).decode()
    return body


def _one_based(req: GatewayRequest, body: Body) -> Body:
    for item in items(body):
        item["index"] += 1
    return body


def _no_created_for_url(req: GatewayRequest, body: Body) -> Body:
    if req.response_format == "url":
        body.pop("created", None)
    return body


def _created_ms(req: GatewayRequest, body: Body) -> Body:
    body["created"] = body["created"] * 1000
    return body


def _total_without_input(req: GatewayRequest, body: Body) -> Body:
    if has_text(req):
        body["usage"]["total_tokens"] = body["usage"]["output_tokens"]
    return body


def _output_one_image(req: GatewayRequest, body: Body) -> Body:
    if req.n >= 2:
        body["usage"]["output_tokens"] = usage(req, 1)["output_tokens"]
        body["usage"]["total_tokens"] = (
            body["usage"]["input_tokens"] + usage(req, 1)["output_tokens"]
        )
    return body


def _swap_landscape_echo(req: GatewayRequest, body: Body) -> Body:
    if req.size == "1792x1024":
        body["size"] = "1024x1792"
    return body


def _quality_always_standard(req: GatewayRequest, body: Body) -> Body:
    if "quality" in body:
        body["quality"] = "standard"
    return body


def _auto_echoed(req: GatewayRequest, body: Body) -> Body:
    if req.size == "auto":
        body["size"] = "auto"
    return body


FAULTS = [
    Fault(
        id="null-revised-prompt-without-style",
        summary="revised_prompt is null (not absent) when no style was sent",
        expected_check="IMG-JSON-SCHEMA",
        body=_null_revised_prompt,
    ),
    Fault(
        id="string-index-for-url",
        summary='url responses serialise data[].index as a string ("0")',
        expected_check="IMG-JSON-SCHEMA",
        body=_string_index,
    ),
    Fault(
        id="n-capped-at-four",
        summary="a legacy limit returns at most 4 images when n is 5..10",
        expected_check="IMG-COUNT",
        body=_legacy_cap,
    ),
    Fault(
        id="default-response-format-b64",
        summary="without response_format the gateway returns b64_json instead of the spec "
        "default (url)",
        expected_check="IMG-FORMAT",
        body=_default_format_b64,
    ),
    Fault(
        id="large-b64-offloaded-to-url",
        summary="b64_json requests for 1792x1024 and 1536x1024 come back as url items",
        expected_check="IMG-FORMAT",
        body=_offload_large,
    ),
    Fault(
        id="one-based-index",
        summary="data[].index counts from 1",
        expected_check="IMG-INDEX",
        body=_one_based,
    ),
    Fault(
        id="created-missing-for-url",
        summary="url responses omit created",
        expected_check="IMG-CREATED-PRESENT",
        body=_no_created_for_url,
    ),
    Fault(
        id="created-in-milliseconds",
        summary="created is in milliseconds",
        expected_check="IMG-CREATED-SECONDS",
        body=_created_ms,
    ),
    Fault(
        id="usage-total-excludes-input",
        summary="usage.total_tokens counts only output tokens when the prompt has text",
        expected_check="IMG-USAGE-SUM",
        body=_total_without_input,
    ),
    Fault(
        id="usage-output-counts-one-image",
        summary="for n >= 2, usage.output_tokens counts one image while its details count all",
        expected_check="IMG-USAGE-SUM",
        body=_output_one_image,
    ),
    Fault(
        id="landscape-size-echo-swapped",
        summary="1792x1024 is echoed as 1024x1792 (the image itself is right)",
        expected_check="IMG-ECHO",
        body=_swap_landscape_echo,
    ),
    Fault(
        id="quality-echo-always-standard",
        summary="quality is echoed as standard whatever was requested",
        expected_check="IMG-ECHO",
        body=_quality_always_standard,
    ),
    Fault(
        id="auto-size-echoed-literally",
        summary='size auto is echoed as "auto" instead of the size produced',
        expected_check="IMG-ECHO",
        body=_auto_echoed,
    ),
]
