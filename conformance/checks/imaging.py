"""Delivered images read completely and within bounds: format, size, wholeness, alpha.

A header says what an image claims to be; only a full decode shows the data is all there. The
declared pixel count is checked against `MAX_PIXELS` before anything is decoded, so an image
that declares a huge canvas (a decompression bomb) is reported, never allocated.
"""

from __future__ import annotations

import io
import warnings
import zlib
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
    if kind == "PNG":
        problem, alpha = png_data_whole(data)
        return replace(found, incomplete=problem, alpha=alpha)
    try:
        with _open(data) as image:
            image.load()
            alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    except _DECODE_ERRORS as exc:
        return replace(found, incomplete=f"the {kind} data does not decode whole ({exc})")
    return replace(found, alpha=alpha)


_PNG_CHANNELS: Final = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
"""Samples per pixel by PNG colour type (grey, RGB, palette, grey+alpha, RGBA)."""
_ADAM7: Final = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
_ADAM7_LAST: Final = (0, 1, 1, 2)
_MAX_FILTER: Final = 4


def png_data_whole(data: bytes) -> tuple[str | None, bool]:
    """Why a PNG (its header already read) is not whole, or None; and whether it has alpha.

    A PNG is whole when every chunk's CRC holds and its zlib stream inflates to every
    scanline the header declares, each with a valid filter type. That is what a decoder needs
    to rebuild every pixel; the pixels themselves are not rebuilt (unfiltering ten large
    images costs more than everything else the suite does with an answer)."""
    view = memoryview(data)
    pos, header, idat, alpha, palette = 8, b"", [], False, False
    while pos + 12 <= len(data):
        length = int.from_bytes(view[pos : pos + 4], "big")
        kind = bytes(view[pos + 4 : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            return f"the PNG chunk {kind!r} at byte {pos} runs past the end (truncated)", alpha
        crc = int.from_bytes(view[end : end + 4], "big")
        if zlib.crc32(view[pos + 4 : end]) != crc:
            return f"the PNG chunk {kind!r} at byte {pos} fails its CRC (corrupt)", alpha
        if kind == b"IHDR":
            if header:  # the size was read (and capped) from the first one
                return "the PNG has more than one IHDR chunk (corrupt)", alpha
            header = bytes(view[pos + 8 : end])
        elif kind == b"IDAT":
            idat.append(view[pos + 8 : end])
        elif kind == b"tRNS":
            alpha = True
        elif kind == b"PLTE":
            palette = True
        elif kind == b"IEND":
            break
        pos = end + 4
    if len(header) != 13:
        return "the PNG has no readable IHDR chunk", alpha
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    if width * height > MAX_PIXELS:  # never inflate what the cap would not decode
        return f"the PNG declares {width}x{height}, over the decoding cap", alpha
    depth, colour, interlaced = header[8], header[9], header[12] == 1
    if colour not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        return f"the PNG declares colour type {colour} at bit depth {depth}", alpha
    if colour == 3 and not palette:
        return "the PNG uses a palette but has no PLTE chunk", alpha
    alpha = alpha or colour in (4, 6)
    bits = _PNG_CHANNELS[colour] * depth
    passes = [*_ADAM7, _ADAM7_LAST] if interlaced else [(0, 0, 1, 1)]
    rows = []  # (offset of the row's filter byte, row length with it), in stream order
    offset = 0
    for x0, y0, dx, dy in passes:
        pass_w = max(0, -(-(width - x0) // dx))
        pass_h = max(0, -(-(height - y0) // dy))
        if pass_w and pass_h:
            stride = 1 + -(-(pass_w * bits) // 8)
            rows.append((offset, stride, pass_h))
            offset += stride * pass_h
    expected = offset
    inflater = zlib.decompressobj()
    raw = bytearray()
    try:
        for chunk in idat:
            raw += inflater.decompress(chunk, expected + 1 - len(raw))
            if len(raw) > expected:
                break
    except zlib.error as exc:
        return f"the PNG data does not decode whole (zlib: {exc})", alpha
    if len(raw) < expected:
        return f"the PNG data ends early: {len(raw)} of {expected} bytes of scanlines", alpha
    for start, stride, count in rows:
        filters = raw[start : start + stride * count : stride]
        if max(filters, default=0) > _MAX_FILTER:
            return "the PNG data holds a scanline with an unknown filter type (corrupt)", alpha
    return None, alpha


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
