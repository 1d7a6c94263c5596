"""Checks of the images in a 200 JSON body: base64 payloads, dimensions, URLs."""

from __future__ import annotations

import base64
from typing import Any

from exchanges import b64, case, exchange, fails, image, image_body, passes, run

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
    outcome = run("IMG-URL-FETCH", url_exchange(), fetch=fetcher(200, image(512, 512)))
    assert fails(outcome) and outcome[0].image == image(512, 512)
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
