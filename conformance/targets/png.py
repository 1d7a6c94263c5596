"""Small, real images for the reference gateway, rendered once per size and format."""

from __future__ import annotations

import io
import re
from functools import lru_cache

from PIL import Image

AUTO_SIZE = (1024, 1024)
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def parse_size(size: str | None) -> tuple[int, int]:
    """Pixels for a size value ("WxH"); `auto`, absent or unparsable sizes give 1024x1024."""
    match = _SIZE.match(size or "")
    return (int(match.group(1)), int(match.group(2))) if match else AUTO_SIZE


def size_text(width: int, height: int) -> str:
    return f"{width}x{height}"


@lru_cache(maxsize=64)
def render(width: int, height: int, fmt: str = "PNG", transparent: bool = False) -> bytes:
    """A solid-colour image of exactly `width` x `height` pixels, encoded as `fmt`;
    `transparent` gives it an alpha channel (fully transparent), for PNG and WebP."""
    colour = (width * 7 % 256, height * 13 % 256, 160)
    out = io.BytesIO()
    image = Image.new("RGBA", (width, height), (*colour, 0)) if transparent else None
    (image or Image.new("RGB", (width, height), colour)).save(out, fmt, optimize=True)
    return out.getvalue()
