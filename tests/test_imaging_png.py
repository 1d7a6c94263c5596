"""The PNG wholeness check agrees with a full Pillow decode: whole images pass with the same
alpha, and every way of breaking the image data is caught."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from conformance.checks.imaging import png_data_whole, read_image

MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"]


def _png(mode: str, size: tuple[int, int] = (37, 23), **params: object) -> bytes:
    image = Image.new("RGB", size, (200, 30, 90)).convert(mode)
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def _rebuilt(data: bytes, scanlines: bytes) -> bytes:
    """`data` with its image data replaced by `scanlines` (compressed, valid CRCs)."""
    header = data[8 : 8 + 25]
    return (
        b"\x89PNG\r\n\x1a\n"
        + header
        + _chunk(b"IDAT", zlib.compress(scanlines))
        + _chunk(b"IEND", b"")
    )


def _scanlines(data: bytes) -> bytes:
    pos, parts = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            parts.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return zlib.decompress(b"".join(parts))


def _pillow_whole(data: bytes) -> tuple[bool, bool]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return True, image.mode in ("RGBA", "LA") or "transparency" in image.info
    except (OSError, ValueError, SyntaxError):
        return False, False


@pytest.mark.parametrize("mode", MODES)
def test_a_whole_png_passes_with_the_alpha_pillow_sees(mode: str) -> None:
    data = _png(mode)
    assert _pillow_whole(data) == (True, png_data_whole(data)[1])
    assert png_data_whole(data)[0] is None
    assert read_image(data).whole


def test_a_palette_with_transparency_has_alpha() -> None:
    data = _png("P", transparency=0)
    assert png_data_whole(data) == (None, True)


def test_an_interlaced_png_is_judged_by_its_seven_passes() -> None:
    width, height = 11, 7
    rows = b""
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        pass_w, pass_h = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if pass_w > 0 and pass_h > 0:
            rows += (b"\x00" + b"\x7f" * pass_w) * pass_h
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )
    assert _pillow_whole(data)[0]
    assert png_data_whole(data) == (None, False)
    short = data.replace(
        _chunk(b"IDAT", zlib.compress(rows)), _chunk(b"IDAT", zlib.compress(rows[:-3]))
    )
    assert not _pillow_whole(short)[0]
    assert "ends early" in (png_data_whole(short)[0] or "")


def test_image_data_that_ends_early_is_caught_like_pillow() -> None:
    data = _png("RGB")
    short = _rebuilt(data, _scanlines(data)[:-40])
    assert not _pillow_whole(short)[0]
    assert "ends early" in (png_data_whole(short)[0] or "")
    assert not read_image(short).whole


def test_an_unknown_filter_type_is_caught_like_pillow() -> None:
    data = _png("RGB")
    lines = bytearray(_scanlines(data))
    lines[0] = 9
    broken = _rebuilt(data, bytes(lines))
    assert not _pillow_whole(broken)[0]
    assert "filter" in (png_data_whole(broken)[0] or "")


def test_a_broken_zlib_stream_and_a_bad_crc_are_caught() -> None:
    data = _png("RGB")
    stream = bytearray(zlib.compress(_scanlines(data)))
    stream[2:12] = b"\xff" * 10
    garbled = data[:33] + _chunk(b"IDAT", bytes(stream)) + _chunk(b"IEND", b"")
    assert "zlib" in (png_data_whole(garbled)[0] or "")
    flipped = bytearray(data)
    flipped[40] ^= 0xFF
    assert "CRC" in (png_data_whole(bytes(flipped))[0] or "")


def test_a_palette_image_without_its_palette_is_not_whole() -> None:
    # Stricter than Pillow, which paints such an image with a default palette: the PNG
    # standard requires PLTE for colour type 3, and libpng (browsers) refuses the image.
    data = _png("P")
    pos = data.index(b"PLTE") - 4
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    stripped = data[:pos] + data[pos + 12 + length :]
    assert "PLTE" in (png_data_whole(stripped)[0] or "")


def test_a_second_ihdr_cannot_declare_a_bigger_canvas() -> None:
    # A small first IHDR passes the pixel cap; a huge second one must not size the inflate.
    data = _png("RGB")
    huge = _chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
    bomb = zlib.compress(b"\x00" * 50_000_000)
    sneaky = data[:33] + huge + _chunk(b"IDAT", bomb) + _chunk(b"IEND", b"")
    assert "more than one IHDR" in (png_data_whole(sneaky)[0] or "")
    assert not read_image(sneaky).whole
    alone = b"\x89PNG\r\n\x1a\n" + huge + _chunk(b"IDAT", bomb) + _chunk(b"IEND", b"")
    assert "over the decoding cap" in (png_data_whole(alone)[0] or "")
