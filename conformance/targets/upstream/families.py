"""How the fake upstream answers one request: the model family's rules and its 200 answers.

`spec` (the default) accepts everything the spec allows and answers as the reference gateway
does, so a conforming gateway in front of it passes a default run. `dall-e-3` and `gpt-image-1`
behave like those models on Azure OpenAI / OpenAI (what each refuses, what each answers).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.spec import Operation
from conformance.targets import payload
from conformance.targets.images import DEFAULT_FORMAT, FORMATS
from conformance.targets.messages import Frame, GatewayRequest
from conformance.targets.png import parse_size, render, size_text
from conformance.targets.upstream.provider_errors import Flavour, invalid

FAMILIES = ("spec", "dall-e-3", "gpt-image-1")
PIL_FORMATS = FORMATS
GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
GPT_IMAGE_QUALITIES = ("low", "medium", "high", "auto")
GPT_IMAGE_BACKGROUNDS = ("transparent", "opaque", "auto")
DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
MAX_PARTIAL_IMAGES = 3
FILTER_RESULTS = {
    name: {"filtered": False, "severity": "safe"}
    for name in ("hate", "self_harm", "sexual", "violence")
}

Refusal = tuple[int, dict[str, Any]]


@dataclass
class Answer:
    """A 200: either a JSON body or the frames of a stream."""

    body: dict[str, Any] | None = None
    frames: list[Frame] | None = None


class Family:
    """The `spec` family: the request schema decides (the deployment in the path stands for
    the model, so `model` is not required here), answers as the reference gateway's."""

    name = "spec"
    default_partials = 1

    def __init__(self, op: Operation) -> None:
        self.op = op
        schema = dict(op.request_schema)
        schema["required"] = [r for r in schema.get("required", []) if r != "model"]
        self._schema = schema  # kept: `op.validator` caches by the schema object

    def refuse(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        """A 400 for what this model does not accept, else None."""
        if not isinstance(req.body, dict):
            message = "We could not parse the JSON body of your request."
            return 400, invalid(flavour, "body", message, "invalid_json")
        if not isinstance(req.body.get("prompt"), str):
            message = "Missing required parameter: 'prompt'."
            return 400, invalid(flavour, "prompt", message, "missing_required_parameter")
        return self.schema_refusal(req, flavour) or self.own_refusal(req, flavour)

    def schema_refusal(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        errors = sorted(self.op.validator(self._schema).iter_errors(req.body), key=str)
        if not errors:
            return None
        error = errors[0]
        param = ".".join(str(p) for p in error.absolute_path) or "body"
        return 400, invalid(flavour, param, f"Invalid value for '{param}': {error.message}")

    def own_refusal(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        return _openai_extras(req, flavour, self.op)

    def images(self, req: GatewayRequest) -> list[bytes]:
        fmt = PIL_FORMATS[self.output_format(req)]
        transparent = self.used_background(req) == "transparent"
        return [render(*parse_size(req.size), fmt, transparent) for _ in range(req.n)]

    def output_format(self, req: GatewayRequest) -> str:
        value = req.field("output_format")
        return value if value in PIL_FORMATS else DEFAULT_FORMAT

    def background(self, req: GatewayRequest) -> str | None:
        value = req.field("background")
        return value if isinstance(value, str) else None

    def used_background(self, req: GatewayRequest) -> str | None:
        """The background the images get, as the answer reports it: transparent only in a
        format that keeps an alpha channel (a JPEG asked to be transparent comes opaque)."""
        asked = self.background(req)
        if asked is None:
            return None
        keeps_alpha = PIL_FORMATS[self.output_format(req)] != "JPEG"
        return "transparent" if asked == "transparent" and keeps_alpha else "opaque"

    def as_url(self, req: GatewayRequest) -> bool:
        return req.response_format == "url"

    def json_body(
        self, req: GatewayRequest, images: list[bytes], publish: Callable[[bytes], str]
    ) -> dict[str, Any]:
        body = payload.json_body(req, images, publish)
        body["output_format"] = self.output_format(req)
        used = self.used_background(req)
        if used is not None:
            body["background"] = used
        return body

    def frames(self, req: GatewayRequest, images: list[bytes]) -> list[Frame]:
        """Per image `partial_images` partial events (default: the family's) then one
        completed event; sequence numbers run on."""
        wanted = req.field("partial_images", self.default_partials)
        count = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else 1
        frames: list[Frame] = []
        partial: Frame | None = None  # the reference's partial event of the current image
        for frame in payload.stream_frames(req, images):
            if (frame.payload or {}).get("type") != payload.COMPLETED:
                partial = partial or frame
                continue
            if partial is not None:
                for index in range(max(0, min(count, MAX_PARTIAL_IMAGES))):
                    data = {**(partial.payload or {}), "partial_image_index": index}
                    frames.append(Frame(data=data, event=partial.event))
            frames.append(frame)
            partial = None
        for number, frame in enumerate(frames):
            if frame.payload is not None:
                frame.payload["sequence_number"] = number
                frame.payload["output_format"] = self.output_format(req)
        return frames

    def answer(self, req: GatewayRequest, publish: Callable[[bytes], str]) -> Answer:
        images = self.images(req)
        if req.stream:
            return Answer(frames=self.frames(req, images))
        return Answer(body=self.json_body(req, images, publish))


class DallE3(Family):
    """Azure's dall-e-3: one image per request, three sizes, url or b64_json, no streaming;
    data items carry content filter results, no usage."""

    name = "dall-e-3"

    def own_refusal(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        if req.n != 1:
            return 400, invalid(flavour, "n", "Invalid value for 'n': dall-e-3 only supports n=1.")
        size = req.field("size", DALLE3_SIZES[0])
        if size not in DALLE3_SIZES:
            message = f"Invalid size '{size}'. Supported values are: {', '.join(DALLE3_SIZES)}."
            return 400, invalid(flavour, "size", message)
        if req.stream:
            message = "Streaming is not supported for model dall-e-3."
            return 400, invalid(flavour, "stream", message, "unsupported_value")
        return None

    def output_format(self, req: GatewayRequest) -> str:
        return DEFAULT_FORMAT

    def background(self, req: GatewayRequest) -> str | None:
        return None

    def json_body(
        self, req: GatewayRequest, images: list[bytes], publish: Callable[[bytes], str]
    ) -> dict[str, Any]:
        full = payload.json_body(req, images, publish)
        data = []
        for item in full["data"]:
            item.pop("index", None)
            data.append({**item, "content_filter_results": FILTER_RESULTS})
        return {"created": full["created"], "data": data}


class GptImage1(Family):
    """OpenAI's gpt-image-1: base64 only (`response_format` is an unknown parameter),
    `output_format`, `background`, streaming with `partial_images` (default 0)."""

    name = "gpt-image-1"
    default_partials = 0

    def refuse(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        if isinstance(req.body, dict) and isinstance(req.body.get("prompt"), str):
            return self.own_refusal(req, flavour)
        return super().refuse(req, flavour)

    def own_refusal(self, req: GatewayRequest, flavour: Flavour) -> Refusal | None:
        body = req.body if isinstance(req.body, dict) else {}
        for name in ("response_format", "style"):
            if name in body:
                message = f"Unknown parameter: '{name}'."
                return 400, invalid(flavour, name, message, "unknown_parameter")
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
            return 400, invalid(flavour, "n", f"Invalid value for 'n': {n!r}.")
        for name, allowed in (
            ("size", GPT_IMAGE_SIZES),
            ("quality", GPT_IMAGE_QUALITIES),
            ("background", GPT_IMAGE_BACKGROUNDS),
            ("output_format", tuple(PIL_FORMATS)),
        ):
            if name in body and body[name] not in allowed:
                message = f"Invalid value: '{body[name]}'. Supported values are: {allowed}."
                return 400, invalid(flavour, name, message)
        if body.get("background") == "transparent" and body.get("output_format") == "jpeg":
            message = "Transparent background requires output_format png or webp."
            return 400, invalid(flavour, "background", message)
        return _openai_extras(req, flavour, self.op)

    def as_url(self, req: GatewayRequest) -> bool:
        return False

    def json_body(
        self, req: GatewayRequest, images: list[bytes], publish: Callable[[bytes], str]
    ) -> dict[str, Any]:
        width, height = parse_size(req.size)
        quality = req.field("quality", "auto")
        return {
            "created": int(time.time()),
            "background": "transparent" if self.background(req) == "transparent" else "opaque",
            "data": [{"b64_json": item["b64_json"]} for item in _b64_items(req, images)],
            "output_format": self.output_format(req),
            "quality": "high" if quality == "auto" else quality,
            "size": size_text(width, height),
            "usage": payload.usage(req, len(images)),
        }


def _b64_items(req: GatewayRequest, images: list[bytes]) -> list[dict[str, Any]]:
    return [{"b64_json": base64.b64encode(image).decode()} for image in images]


def _openai_extras(req: GatewayRequest, flavour: Flavour, op: Operation) -> Refusal | None:
    """OpenAI's image fields the spec does not name, when present, must be well-formed; a
    document that declares one judges it by its own schema (e.g. `partial_images: 1.0` is an
    integer to JSON Schema)."""
    body = req.body if isinstance(req.body, dict) else {}
    body = {k: v for k, v in body.items() if k not in op.properties}
    partial = body.get("partial_images")
    if partial is not None and (
        not isinstance(partial, int)
        or isinstance(partial, bool)
        or not 0 <= partial <= MAX_PARTIAL_IMAGES
    ):
        message = f"Invalid value for 'partial_images': must be 0 to {MAX_PARTIAL_IMAGES}."
        return 400, invalid(flavour, "partial_images", message)
    fmt = body.get("output_format")
    if fmt is not None and fmt not in PIL_FORMATS:
        message = f"Invalid value: '{fmt}'. Supported values are: 'png', 'jpeg' and 'webp'."
        return 400, invalid(flavour, "output_format", message)
    return None


def odd_usage(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """`body` with the odd `usage` a `usage-*` marker asks for: `usage-missing` (none),
    `usage-null`, `usage-odd` (fractional counts and unknown nested keys); other kinds: as is.
    Providers have sent each of these; a gateway must still answer with the images."""
    if kind == "usage-missing":
        return {k: v for k, v in body.items() if k != "usage"}
    if kind == "usage-null":
        return {**body, "usage": None}
    if kind == "usage-odd":
        return {
            **body,
            "usage": {
                "input_tokens": 12.5,
                "output_tokens": 4160.0,
                "total_tokens": 4172.5,
                "input_tokens_details": {"text_tokens": 12.5, "cached": {"tokens": 0}},
                "billing": {"tier": "conformance", "units": [1.5]},
            },
        }
    return body


def family(name: str, op: Operation) -> Family:
    """The family called `name` (one of `FAMILIES`)."""
    classes: dict[str, type[Family]] = {
        "spec": Family,
        "dall-e-3": DallE3,
        "gpt-image-1": GptImage1,
    }
    if name not in classes:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    return classes[name](op)
