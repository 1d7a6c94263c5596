"""The images a request asks for: OpenAI's extension fields, as the reference gateway honours them.

`output_format`, `background` and `partial_images` are not in the spec; under the rulings they
are unknown fields, so valid input, and the reference applies them like OpenAI's image models.
"""

from __future__ import annotations

from typing import Final

from conformance.targets.messages import GatewayRequest
from conformance.targets.png import parse_size, render

FORMATS: Final = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MEDIA_TYPES: Final = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
DEFAULT_FORMAT: Final = "png"
TRANSPARENT: Final = "transparent"
DEFAULT_PARTIALS: Final = 1
MAX_PARTIALS: Final = 3


def output_format(req: GatewayRequest) -> str:
    """The format the images are delivered in: the requested one when known, else png."""
    value = req.field("output_format")
    return value if isinstance(value, str) and value in FORMATS else DEFAULT_FORMAT


def transparent(req: GatewayRequest) -> bool:
    """A transparent background was asked for, in a format that keeps it (not JPEG)."""
    return req.field("background") == TRANSPARENT and output_format(req) != "jpeg"


def background(req: GatewayRequest) -> str | None:
    """The background to report: only when one was asked for."""
    if not req.sent("background"):
        return None
    return TRANSPARENT if transparent(req) else "opaque"


def partial_count(req: GatewayRequest) -> int:
    """Partial events per streamed image: `partial_images` when sent (0..3), else one."""
    value = req.field("partial_images")
    if isinstance(value, int) and not isinstance(value, bool):
        return max(0, min(MAX_PARTIALS, value))
    return DEFAULT_PARTIALS


def encoding(req: GatewayRequest) -> str:
    """The Pillow format name of the images a request gets (PNG, JPEG, WEBP)."""
    return FORMATS[output_format(req)]


def requested_image(req: GatewayRequest) -> bytes:
    """The image a valid request gets: its size, format and background (encoded once each)."""
    width, height = parse_size(req.size)
    return render(width, height, encoding(req), transparent(req))


def media_type(image: bytes) -> str:
    """The Content-Type an image URL serves, by the bytes' magic."""
    return next((t for magic, t in MEDIA_TYPES.items() if image.startswith(magic)), "image/png")
