"""Delivered images read completely and within bounds: format, size, wholeness, alpha.

A header says what an image claims to be; only a full decode shows the data is all there. The
declared pixel count is checked against `MAX_PIXELS` before anything is decoded, so an image
that declares a huge canvas (a decompression bomb) is reported, never allocated.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Final

from PIL import Image

MAX_PIXELS: Final = 4096 * 4096
"""The largest image the suite decodes (16.8 Mpx); every size the spec lists is far below."""
CACHED_BYTES: Final = 256 * 1024
"""Images up to this size are remembered by content (at most 64 of them)."""
PNG_END: Final = b"\x00\x00\x00\x00IEND\xaeB`\x82"
"""The complete IEND chunk (length, type, CRC) that ends every PNG."""
JPEG_END: Final = b"\xff\xd9"
RIFF_HEADER: Final = 8
_MAGIC: tuple[tuple[str, Any], ...] = (
    ("PNG", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("JPEG", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("WebP", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)
FORMAT_NAMES: Final = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WebP"}
"""`output_format` words and the image format (by magic bytes) each names."""
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class DecodedImage:
    """An image as far as it could be read.

    `error`: no PNG/JPEG/WebP, or its header does not read (no dimensions). `incomplete`: the
    header reads but the image does not decode whole (or was not decoded: over the pixel cap).
    """

    data: bytes | None = None
    kind: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None
    incomplete: str | None = None
    alpha: bool = False

    @property
    def dimensions(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def whole(self) -> bool:
        return self.error is None and self.incomplete is None


def read_image(data: bytes) -> DecodedImage:
    """Identify `data` by magic bytes, read its header, then decode it fully (bounded).

    Small images are cached by content: a gateway that returns the same bytes many times (the
    reference renders one image per size) is decoded once.
    """
    data = bytes(data)
    return _cached_read(data) if len(data) <= CACHED_BYTES else _read(data)


@lru_cache(maxsize=64)
def _cached_read(data: bytes) -> DecodedImage:
    return _read(data)


def _read(data: bytes) -> DecodedImage:
    kind = next((name for name, matches in _MAGIC if matches(data)), None)
    if kind is None:
        return DecodedImage(data=data, error=f"bytes starting {data[:8]!r} are not PNG/JPEG/WebP")
    missing = _missing_end(kind, data)
    if kind == "WebP" and missing:  # Pillow reads no WebP header without the whole RIFF chunk
        return DecodedImage(data=data, kind=kind, incomplete=missing)
    try:
        with _open(data) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:
        return DecodedImage(data=data, kind=kind, incomplete=f"it was not decoded: {exc}")
    except _DECODE_ERRORS as exc:
        return DecodedImage(data=data, kind=kind, error=f"{kind} header unreadable: {exc}")
    found = DecodedImage(data=data, kind=kind, width=width, height=height)
    if width * height > MAX_PIXELS:
        why = (
            f"it declares {width}x{height} ({width * height} pixels), over the decoding cap of "
            f"{MAX_PIXELS} pixels, so it was not decoded"
        )
        return replace(found, incomplete=why)
    if missing:
        return replace(found, incomplete=missing)
    try:
        if kind == "PNG":
            with _open(data) as image:
                image.verify()  # every chunk's CRC, up to IEND
        with _open(data) as image:
            image.load()
            alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    except _DECODE_ERRORS as exc:
        return replace(found, incomplete=f"the {kind} data does not decode whole ({exc})")
    return replace(found, alpha=alpha)


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _missing_end(kind: str, data: bytes) -> str | None:
    """The structural end each format has, when it is missing."""
    if kind == "PNG" and data.rfind(PNG_END) < 0:
        return "a PNG without its IEND end chunk (truncated)"
    if kind == "JPEG" and data.rfind(JPEG_END) < 2:
        return "a JPEG without its end-of-image marker FFD9 (truncated)"
    if kind == "WebP":
        declared = int.from_bytes(data[4:8], "little") + RIFF_HEADER
        if len(data) < declared:
            return f"a WebP whose RIFF chunk declares {declared} bytes, got {len(data)} (truncated)"
    return None


def named_format(value: Any) -> str | None:
    """The image format an `output_format` value names (png, jpeg/jpg, webp), else None."""
    return FORMAT_NAMES.get(value.strip().lower()) if isinstance(value, str) else None
