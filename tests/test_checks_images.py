"""Checks of the images in a 200 JSON body: base64 payloads, dimensions, URLs."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from typing import Any

from exchanges import b64, case, exchange, fails, image, image_body, passes, run
from PIL import Image

from conformance.checks.imaging import MAX_PIXELS
from conformance.model import FetchResult
from conformance.model import TransportErrorKind as Kind

B64 = {"response_format": "b64_json"}


def with_items(items: list[dict[str, Any]], **request: Any) -> Any:
    return exchange(case({**B64, **request}), json_body={"data": items})


def test_b64_decodes_png_jpeg_webp() -> None:
    items = [{"b64_json": b64(16, 16, kind)} for kind in ("PNG", "JPEG", "WEBP")]
    assert passes(run("IMG-B64-DECODES", with_items(items, n=3)))


def test_b64_decodes_fails_on_prefix_garbage_and_non_images() -> None:
    prefixed = [{"b64_json": "data:image/png;base64," + b64(8, 8)}]
    outcome = run("IMG-B64-DECODES", with_items(prefixed))
    assert fails(outcome) and "data:" in outcome[0].message
    assert fails(run("IMG-B64-DECODES", with_items([{"b64_json": "not base64!"}])))
    gif = base64.b64encode(image(8, 8, "GIF")).decode()
    outcome = run("IMG-B64-DECODES", with_items([{"b64_json": gif}]))
    assert fails(outcome) and outcome[0].image is None
    assert run("IMG-B64-DECODES", with_items([{"url": "https://x.test/a.png"}])) is None


def test_size_reads_the_header() -> None:
    assert passes(run("IMG-SIZE", with_items([{"b64_json": b64(512, 512)}], size="512x512")))
    outcome = run("IMG-SIZE", with_items([{"b64_json": b64(256, 256)}], size="512x512"))
    assert fails(outcome)
    assert outcome[0].actual == "256x256" and outcome[0].image == image(256, 256)


def test_size_auto_accepts_any_listed_size_only() -> None:
    assert passes(run("IMG-SIZE", with_items([{"b64_json": b64(1024, 1536)}], size="auto")))
    assert fails(run("IMG-SIZE", with_items([{"b64_json": b64(300, 200)}], size="auto")))
    assert run("IMG-SIZE", with_items([{"b64_json": b64(300, 200)}])) is None  # size not asked


def test_url_absolute() -> None:
    ok = exchange(json_body={"data": [{"url": "https://cdn.example.com/i/1.png?sig=a"}]})
    assert passes(run("IMG-URL-ABSOLUTE", ok))
    for bad in ("/images/1.png", "ftp://cdn.example.com/1.png", "https://", ""):
        assert fails(run("IMG-URL-ABSOLUTE", exchange(json_body={"data": [{"url": bad}]})))


def fetcher(status: int | None, body: bytes = b"", error: str | None = None) -> Any:
    seen: list[str] = []
    kind, _, detail = (error or "").partition(": ")

    def fetch(url: str) -> FetchResult:
        seen.append(url)
        assert url.startswith("http://127.0.0.1")
        if error:
            return FetchResult(error=Kind(kind), detail=detail)
        return FetchResult(status, {"content-type": "image/png"}, body)

    fetch.seen = seen  # type: ignore[attr-defined]
    return fetch


def url_exchange(size: str = "1024x1024") -> Any:
    return exchange(case({"size": size}), json_body={"data": [{"url": "http://127.0.0.1:9/i.png"}]})


def test_url_fetch_passes_for_an_image_of_the_requested_size() -> None:
    fetch = fetcher(200, image(1024, 1024))
    assert passes(run("IMG-URL-FETCH", url_exchange(), fetch=fetch))
    assert fetch.seen == ["http://127.0.0.1:9/i.png"]


def test_url_fetch_fails_on_unreachable_missing_or_wrong_size() -> None:
    outcome = run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(None, error="connect: refused"))
    assert fails(outcome) and "unreachable from the test host" in outcome[0].message
    assert fails(run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(404, b"gone")))
    assert run("IMG-URL-FETCH", exchange(json_body=image_body())) is None


def test_url_fetch_status_message_allows_for_expiry_and_credentials() -> None:
    outcome = run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(403, b"AuthenticationFailed"))
    assert fails(outcome) and outcome[0].actual == "403"
    assert "may have expired" in outcome[0].message


def test_url_fetch_skips_urls_the_suite_did_not_fetch() -> None:
    for error in (f"{Kind.NOT_FETCHED}: request budget spent", f"{Kind.ABORTED}: run stopped"):
        assert run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(None, error=error)) is None
    outcome = run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(None, error="connect: refused"))
    assert fails(outcome)


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rgba_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (1, 2, 3, 0)).save(out, "PNG")
    return out.getvalue()


def declared_png(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` over one row of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    idat = zlib.compress(b"\x00" + b"\x00" * 3 * width)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_whole_passes_complete_png_jpeg_webp() -> None:
    items = [{"b64_json": b64(64, 64, kind)} for kind in ("PNG", "JPEG", "WEBP")]
    assert passes(run("IMG-WHOLE", with_items(items, n=3)))


def test_whole_fails_truncated_images_whose_header_reads() -> None:
    png, jpeg, webp = (image(64, 64, kind) for kind in ("PNG", "JPEG", "WEBP"))
    broken = {
        "PNG cut mid-data": png[: len(png) // 2],
        "PNG without IEND": png[:-12],
        "PNG with a cut IEND CRC": png[:-2],
        "JPEG without FFD9": jpeg[:-2],
        "short WebP RIFF": webp[:-10],
    }
    for name, data in broken.items():
        ex = with_items([{"b64_json": encoded(data)}])
        assert passes(run("IMG-B64-DECODES", ex)), name  # the header still reads
        outcome = run("IMG-WHOLE", ex)
        assert fails(outcome), name
        assert outcome[0].image is None and "truncated" in outcome[0].message, name


def test_whole_refuses_to_decode_over_the_pixel_cap() -> None:
    side = int(MAX_PIXELS**0.5) + 100
    bomb = declared_png(side, side)
    ex = with_items([{"b64_json": encoded(bomb)}])
    outcome = run("IMG-WHOLE", ex)
    assert fails(outcome) and "cap" in outcome[0].message
    huge = with_items([{"b64_json": encoded(declared_png(20_000, 20_000))}])
    assert passes(run("IMG-B64-DECODES", huge))  # a PNG, only too large to decode
    outcome = run("IMG-WHOLE", huge)
    assert fails(outcome) and "not decoded" in outcome[0].message
    assert run("IMG-WHOLE", with_items([{"b64_json": "not base64!"}])) is None


def test_url_content_is_a_must_once_fetched_with_200() -> None:
    html = fetcher(200, b"<!doctype html><p>sign in</p>")
    assert passes(run("IMG-URL-FETCH", url_exchange(), fetch=html))
    outcome = run("IMG-URL-CONTENT", url_exchange(), fetch=html)
    assert fails(outcome) and "not PNG/JPEG/WebP" in outcome[0].message
    small = fetcher(200, image(512, 512))
    assert passes(run("IMG-URL-FETCH", url_exchange(), fetch=small))
    outcome = run("IMG-URL-CONTENT", url_exchange(), fetch=small)
    assert fails(outcome) and outcome[0].actual == "512x512"
    cut = image(1024, 1024)
    outcome = run("IMG-URL-CONTENT", url_exchange(), fetch=fetcher(200, cut[:-12]))
    assert fails(outcome) and "IEND" in outcome[0].message
    jpeg = fetcher(200, image(1024, 1024, "JPEG"))
    assert passes(run("IMG-URL-CONTENT", url_exchange(), fetch=jpeg))
    assert run("IMG-URL-CONTENT", url_exchange(), fetch=fetcher(404, b"gone")) is None


def test_output_format_names_the_bytes() -> None:
    jpeg = [{"b64_json": b64(32, 32, "JPEG")}]
    outcome = run(
        "IMG-OUTPUT-FORMAT", exchange(case(B64), json_body={"data": jpeg, "output_format": "png"})
    )
    assert fails(outcome) and outcome[0].expected == "PNG" and outcome[0].actual == "JPEG"
    for word in ("jpeg", "JPG"):
        ok = exchange(case(B64), json_body={"data": jpeg, "output_format": word})
        assert passes(run("IMG-OUTPUT-FORMAT", ok)), word
    webp = exchange(
        case(B64), json_body={"data": [{"b64_json": b64(8, 8, "WEBP")}], "output_format": "webp"}
    )
    assert passes(run("IMG-OUTPUT-FORMAT", webp))
    assert run("IMG-OUTPUT-FORMAT", exchange(case(B64), json_body={"data": jpeg})) is None
    other = exchange(case(B64), json_body={"data": jpeg, "output_format": "avif"})
    assert run("IMG-OUTPUT-FORMAT", other) is None  # a word the check cannot map is not judged


def test_output_format_skips_images_that_are_not_whole() -> None:
    cut = encoded(image(64, 64, "JPEG")[:-2])
    body = {"data": [{"b64_json": cut}], "output_format": "png"}
    assert run("IMG-OUTPUT-FORMAT", exchange(case(B64), json_body=body)) is None


def test_background_transparent_goes_with_alpha() -> None:
    alpha = [{"b64_json": encoded(rgba_png(16, 16))}]
    body = {"data": alpha, "background": "transparent"}
    assert passes(run("IMG-BACKGROUND-ALPHA", exchange(case(B64), json_body=body)))
    opaque = {"data": [{"b64_json": b64(16, 16)}], "background": "transparent"}
    outcome = run("IMG-BACKGROUND-ALPHA", exchange(case(B64), json_body=opaque))
    assert fails(outcome) and outcome[0].actual == "opaque PNG"
    plain = {"data": [{"b64_json": b64(16, 16)}], "background": "opaque"}
    assert run("IMG-BACKGROUND-ALPHA", exchange(case(B64), json_body=plain)) is None
    assert run("IMG-BACKGROUND-ALPHA", exchange(case(B64), json_body={"data": alpha})) is None


def test_extension_fields_take_effect_at_should() -> None:
    jpeg_asked = case({**B64, "output_format": "jpeg"})
    jpeg = {"data": [{"b64_json": b64(32, 32, "JPEG")}], "output_format": "jpeg"}
    assert passes(run("IMG-EXTENSIONS-HONOURED", exchange(jpeg_asked, json_body=jpeg)))
    png = {"data": [{"b64_json": b64(32, 32)}], "output_format": "png"}
    outcome = run("IMG-EXTENSIONS-HONOURED", exchange(jpeg_asked, json_body=png))
    assert fails(outcome) and outcome[0].expected == "JPEG"
    assert passes(run("IMG-OUTPUT-FORMAT", exchange(jpeg_asked, json_body=png)))  # told the truth
    clear = case({**B64, "background": "transparent"})
    alpha = {"data": [{"b64_json": encoded(rgba_png(16, 16))}]}
    assert passes(run("IMG-EXTENSIONS-HONOURED", exchange(clear, json_body=alpha)))
    opaque = {"data": [{"b64_json": b64(16, 16)}]}
    outcome = run("IMG-EXTENSIONS-HONOURED", exchange(clear, json_body=opaque))
    assert fails(outcome) and outcome[0].expected == "an alpha channel"
    jpeg_clear = case({**B64, "background": "transparent", "output_format": "jpeg"})
    assert passes(run("IMG-EXTENSIONS-HONOURED", exchange(jpeg_clear, json_body=jpeg)))
    assert run("IMG-EXTENSIONS-HONOURED", exchange(case(B64), json_body=png)) is None
