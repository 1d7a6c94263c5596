"""Content-Encoding undone incrementally, against a byte cap: a few kilobytes of `gzip, gzip`
cannot inflate into gigabytes.

httpx decodes a whole network chunk at once (64 KiB of deflate can inflate 1000-fold, and each
stacked encoding multiplies that), so the client reads raw bytes and decodes them here, each
layer producing at most `PIECE` bytes at a time, every layer's output counted against the cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

MAX_STACKED = 2
"""More encodings than this on one body are refused (no real server stacks three)."""
PIECE = 256 * 1024
IDENTITY = frozenset({"", "identity"})


class DecodeError(Exception):
    """The body cannot be decoded (`limit=False`) or decodes past the cap (`limit=True`)."""

    def __init__(self, detail: str, limit: bool = False) -> None:
        super().__init__(detail)
        self.limit = limit


def encodings(header: str) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied."""
    return [c for c in (part.strip().lower() for part in header.split(",")) if c not in IDENTITY]


class _Layer:
    """One gzip or deflate layer, inflating at most `PIECE` bytes per step."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.raw_deflate = False
        wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._z.decompress(data, PIECE)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._started:
                    # Servers send raw deflate as often as zlib-wrapped deflate (as httpx does).
                    self._z, self._started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise DecodeError(f"{self.coding}: {exc}") from None
            self._started = True
            data = self._z.unconsumed_tail
            if out:
                yield out
            elif self._z.eof:
                return  # bytes after the end of the stream are ignored, as zlib does

    def flush(self) -> Iterator[bytes]:
        out = self._z.flush()
        if out:
            yield out


class BoundedDecoder:
    """Undo the `codings` (as listed by `encodings`), yielding decoded pieces; raises
    `DecodeError(limit=True)` once any layer's output passes `limit` bytes."""

    def __init__(self, codings: list[str], limit: int) -> None:
        if len(codings) > MAX_STACKED:
            raise DecodeError(
                f"{len(codings)} stacked content-encodings ({', '.join(codings)}); "
                f"the suite decodes at most {MAX_STACKED}",
                limit=True,
            )
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise DecodeError(f"content-encoding {unknown[0]!r} was not asked for")
        self._layers = [_Layer(c) for c in reversed(codings)]  # the last applied comes off first
        self._limit = limit
        self._sizes = [0] * len(self._layers)

    def feed(self, raw: bytes) -> Iterator[bytes]:
        yield from self._through(0, raw)

    def flush(self) -> Iterator[bytes]:
        for i, layer in enumerate(self._layers):
            for out in layer.flush():
                yield from self._counted(i, out)

    def _through(self, i: int, data: bytes) -> Iterator[bytes]:
        if i == len(self._layers):
            yield data
            return
        for out in self._layers[i].feed(data):
            yield from self._counted(i, out)

    def _counted(self, i: int, out: bytes) -> Iterator[bytes]:
        self._sizes[i] += len(out)
        if self._sizes[i] > self._limit:
            raise DecodeError(f"body inflated past {self._limit} bytes; read stopped", limit=True)
        yield from self._through(i + 1, out)
