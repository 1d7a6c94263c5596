"""The 200 answers of the reference gateway: the JSON body and the SSE frames of a stream."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import Any

from conformance.targets.images import background, output_format, partial_count
from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.png import parse_size, size_text

PARTIAL = "image_generation.partial_image"
COMPLETED = "image_generation.completed"
PIXELS_PER_TOKEN = 4096
CHARS_PER_TOKEN = 4


def usage(req: GatewayRequest, images: int) -> dict[str, Any]:
    """Token usage whose totals and details add up."""
    width, height = parse_size(req.size)
    text_tokens = math.ceil(len(req.prompt) / CHARS_PER_TOKEN)
    image_tokens = images * max(1, width * height // PIXELS_PER_TOKEN)
    return {
        "input_tokens": text_tokens,
        "input_tokens_details": {"image_tokens": 0, "text_tokens": text_tokens},
        "output_tokens": image_tokens,
        "output_tokens_details": {"image_tokens": image_tokens, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens,
    }


def echoed(req: GatewayRequest) -> dict[str, Any]:
    """The settings a response reports: the concrete size, the quality when one was asked."""
    fields: dict[str, Any] = {"size": size_text(*parse_size(req.size))}
    if req.quality is not None:
        fields["quality"] = req.quality
    fields["output_format"] = output_format(req)
    shown = background(req)
    if shown is not None:
        fields["background"] = shown
    return fields


def json_body(
    req: GatewayRequest, images: list[bytes], publish: Callable[[bytes], str]
) -> dict[str, Any]:
    """The JSON body: one data item per image, as a URL or base64 as requested."""
    as_url = req.response_format == "url"
    data = []
    for index, image in enumerate(images):
        item: dict[str, Any] = (
            {"url": publish(image)} if as_url else {"b64_json": base64.b64encode(image).decode()}
        )
        item.update(revised_prompt=req.prompt, index=index)
        data.append(item)
    return {
        "created": int(time.time()),
        "data": data,
        **echoed(req),
        "usage": usage(req, len(data)),
    }


def stream_frames(req: GatewayRequest, images: list[bytes]) -> list[Frame]:
    """Per image its partial events (`partial_images`, else one), then one completed event;
    sequence numbers run on."""
    frames: list[Frame] = []
    settings = echoed(req)
    partials = partial_count(req)
    for image in images:
        encoded = base64.b64encode(image).decode()
        for kind, partial in [*((PARTIAL, k) for k in range(partials)), (COMPLETED, None)]:
            data: dict[str, Any] = {
                "type": kind,
                "sequence_number": len(frames),
                "b64_json": encoded,
                "created_at": int(time.time()),
                **settings,
            }
            if partial is not None:
                data["partial_image_index"] = partial
            else:
                data["usage"] = usage(req, 1)
            frames.append(Frame(data=data, event=kind))
    return frames
