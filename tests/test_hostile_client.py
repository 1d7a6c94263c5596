"""One request to a hostile or broken gateway: bounded in time and memory, a clear failure.

Each test sends a single case with tight `Bounds` and applies the whole check catalogue to
what came back: no check may crash, and the check named for the misbehaviour must flag it.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
from hostile import behaviours as hb
from hostile import serving
from hostile.server import Behaviour

from conformance.checks.registry import ExchangeContext, Problem, catalogue
from conformance.client import Client
from conformance.config import Bounds, Target
from conformance.model import Case, Exchange
from conformance.plan import build_plan
from conformance.spec import Operation, Spec

MiB = 1024 * 1024
TIGHT = Bounds(
    connect_timeout=1.0,
    read_timeout=0.5,
    total_timeout=1.5,
    max_body_bytes=4 * MiB,
    max_events=300,
    max_stream_s=1.5,
)
SLACK_S = 2.0


@pytest.fixture(scope="module")
def cases(spec: Spec) -> dict[str, Case]:
    """A valid JSON case and a valid streamed case from the plan."""
    op = spec.operation
    valid = [c for c in build_plan(op, seed=0, model="dall-e-3").cases if c.expect == "success"]
    return {
        "json": next(c for c in valid if not c.streamed(op)),
        "stream": next(c for c in valid if c.streamed(op)),
    }


def exchange_with(
    behaviour: Behaviour, op: Operation, case: Case, bounds: Bounds = TIGHT
) -> Exchange:
    with serving(behaviour) as server, Client(Target(server.url), op, bounds) as client:
        exchange = client.send(case)
    assert server.hits == 1
    return exchange


def judged(spec: Spec, exchange: Exchange) -> dict[str, list[Problem] | None]:
    """Every exchange check's outcome; a crash fails the test with the check's ID."""
    with Client(Target("http://127.0.0.1:9"), spec.operation, TIGHT) as client:
        outcomes = {}
        for chk in catalogue():
            if chk.scope != "exchange":
                continue
            ctx = ExchangeContext(spec, spec.operation, exchange, client.fetch)
            try:
                outcomes[chk.id] = chk.func(ctx)
            except Exception as exc:  # pragma: no cover - the assertion is the point
                pytest.fail(f"{chk.id} crashed on a hostile answer: {exc!r}")
    return outcomes


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def test_silent_gateway_times_out_at_the_first_byte_wait(
    spec: Spec, cases: dict[str, Case]
) -> None:
    started = time.monotonic()
    exchange = exchange_with(hb.silent, spec.operation, cases["json"])
    assert time.monotonic() - started < TIGHT.first_byte_s + SLACK_S
    assert exchange.status is None and exchange.transport_error in ("timeout", "deadline")
    problems = judged(spec, exchange)["PROTO-RESPONDS"]
    assert problems and ("timeout" in problems[0].message or "first-byte" in problems[0].message)


@pytest.mark.parametrize("behaviour", [hb.trickled_headers, hb.trickled_body])
def test_trickling_gateway_is_cut_at_the_total_timeout(
    spec: Spec, cases: dict[str, Case], behaviour: Behaviour
) -> None:
    started = time.monotonic()
    exchange = exchange_with(behaviour, spec.operation, cases["json"])
    elapsed = time.monotonic() - started
    assert TIGHT.total_timeout - 0.1 <= elapsed < TIGHT.total_timeout + SLACK_S
    assert exchange.transport_error == "deadline"
    assert judged(spec, exchange)["PROTO-RESPONDS"]


@pytest.mark.parametrize(
    ("behaviour", "bounds", "cut"),
    [
        (hb.endless_sse, TIGHT, "stream-too-long"),
        (hb.trickled_sse, Bounds(read_timeout=0.5, max_events=10**6, max_stream_s=1.0), "deadline"),
    ],
    ids=["fast-max-events", "slow-max-stream-s"],
)
def test_endless_stream_is_cut_and_flagged(
    spec: Spec,
    cases: dict[str, Case],
    traced: None,
    behaviour: Behaviour,
    bounds: Bounds,
    cut: str,
) -> None:
    started = time.monotonic()
    exchange = exchange_with(behaviour, spec.operation, cases["stream"], bounds)
    assert time.monotonic() - started < bounds.max_stream_s + SLACK_S
    _, peak = tracemalloc.get_traced_memory()
    assert exchange.transport_error == cut, exchange.transport_detail
    assert exchange.events is not None and 0 < len(exchange.events) <= bounds.max_events + 1
    assert peak < 200 * MiB, f"peak {peak / MiB:.0f} MiB while reading an endless stream"
    problems = judged(spec, exchange)["SSE-TERMINATES"]
    assert problems and cut in problems[0].message


@pytest.mark.parametrize("behaviour", [hb.huge_body, hb.gzip_bomb], ids=["1GiB", "gzip-bomb"])
def test_huge_body_read_stops_at_max_body_bytes(
    spec: Spec, cases: dict[str, Case], traced: None, behaviour: Behaviour
) -> None:
    started = time.monotonic()
    exchange = exchange_with(behaviour, spec.operation, cases["json"])
    assert time.monotonic() - started < 5
    _, peak = tracemalloc.get_traced_memory()
    assert exchange.transport_error == "body-too-large"
    assert len(exchange.body) <= TIGHT.max_body_bytes
    assert peak < 32 * TIGHT.max_body_bytes, f"peak {peak / MiB:.0f} MiB for a 1 GiB body"
    problems = judged(spec, exchange)["PROTO-RESPONDS"]
    assert problems and "body-too-large" in problems[0].message


BROKEN = {
    "garbage": (hb.garbage, "PROTO-BODY-PARSES", None),
    "invalid-utf8": (hb.invalid_utf8, "PROTO-BODY-PARSES", None),
    "truncated-json": (hb.truncated_json, "PROTO-BODY-PARSES", None),
    "longer-than-content-length": (hb.overlong_body, "PROTO-BODY-PARSES", None),
    "reset-mid-body": (hb.reset_mid_body, "PROTO-RESPONDS", {"reset", "protocol"}),
    "html-502": (hb.html_502, "PROTO-NO-5XX", None),
    "bad-gzip": (hb.bad_gzip, "PROTO-RESPONDS", {"decoding"}),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_answer_is_a_clear_failure_of_the_request(
    spec: Spec, cases: dict[str, Case], name: str
) -> None:
    behaviour, check_id, transport = BROKEN[name]
    exchange = exchange_with(behaviour, spec.operation, cases["json"])
    if transport:
        assert exchange.transport_error in transport, exchange.transport_detail
    else:
        assert exchange.transport_error is None and exchange.status is not None
    outcomes = judged(spec, exchange)
    problems = outcomes[check_id]
    assert problems, f"{check_id} did not flag {name}"
    assert not any(p.error for p in problems)


# -- bounds of the client's own parsing ----------------------------------------------------


def test_stacked_encodings_inflate_only_up_to_the_cap(spec: Spec, cases: dict[str, Case]) -> None:
    hb.stacked_gzip_body()
    tracemalloc.start()
    try:
        exchange = exchange_with(hb.stacked_gzip_bomb, spec.operation, cases["json"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exchange.transport_error == "body-too-large", exchange.transport_detail
    assert "inflated past" in exchange.transport_detail
    assert peak < 8 * TIGHT.max_body_bytes, f"peak {peak / MiB:.0f} MiB"


def test_more_than_two_stacked_encodings_are_refused(spec: Spec, cases: dict[str, Case]) -> None:
    exchange = exchange_with(hb.triple_gzip, spec.operation, cases["json"])
    assert exchange.transport_error == "body-too-large"
    assert "3 stacked content-encodings" in exchange.transport_detail


def test_two_stacked_encodings_that_fit_are_decoded() -> None:
    from conformance.decoding import BoundedDecoder

    body = b'{"created": 1}' * 1000
    packed = hb._gzip(zlib.compress(body))
    decoder = BoundedDecoder(["deflate", "gzip"], limit=1 << 20)
    out = b"".join(decoder.feed(packed[:7])) + b"".join(decoder.feed(packed[7:]))
    assert out + b"".join(decoder.flush()) == body


def test_pixel_bomb_gets_no_thumbnail_and_is_never_decoded() -> None:
    from conformance.evidence import thumbnail

    tracemalloc.start()
    try:
        assert thumbnail(hb.PIXEL_BOMB) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB, f"peak {peak / MiB:.0f} MiB for a 900-megapixel header"
    import io

    from PIL import Image

    small = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(small, format="PNG")
    assert thumbnail(small.getvalue()), "an ordinary image lost its thumbnail"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b"[" * 500 + b"]" * 500, "nested deeper"),
        (b"[" + b"1," * 200_000 + b"1]", "more values"),
    ],
    ids=["deep-recursion", "deep", "wide"],
)
def test_json_beyond_bounds_is_not_judged_and_says_why(text: bytes, problem: str) -> None:
    from conformance.model import NOT_JSON, parse_json_bounded

    started = time.monotonic()
    value, why = parse_json_bounded(text)
    assert value is NOT_JSON and problem in why
    assert time.monotonic() - started < 5


def test_huge_numbers_are_values_not_crashes() -> None:
    from conformance.model import parse_json

    value = parse_json(
        b'{"created": 1' + b"7" * 5000 + b', "f": 1e99999, "g": -' + b"1" * 5000 + b"}"
    )
    assert value == {"created": float("inf"), "f": float("inf"), "g": float("-inf")}
    assert str(value)  # printable: no int-to-str digit limit can be hit


def test_fetch_policy_keeps_requests_off_link_local_and_private_networks() -> None:
    from conformance.urlpolicy import FetchPolicy

    public = FetchPolicy("http://93.184.216.34:8080")
    assert "link-local" in (public.refusal("http://169.254.169.254/latest/meta-data") or "")
    assert "link-local" in (public.refusal("http://[fe80::1]/x") or "")
    assert "private" in (public.refusal("http://10.1.2.3/x.png") or "")
    assert "private" in (public.refusal("http://127.0.0.1:9/x.png") or "")
    assert public.refusal("http://93.184.216.35/x.png") is None
    assert (
        FetchPolicy("http://93.184.216.34", allow_private=True).refusal("http://10.0.0.1/") is None
    )
    local = FetchPolicy("http://127.0.0.1:8080")
    assert local.refusal("http://127.0.0.1:9/x.png") is None
    assert "link-local" in (local.refusal("http://169.254.169.254/") or "")


def test_a_slow_parse_of_a_large_answer_is_not_charged_to_the_gateway(
    spec: Spec, cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer arrives whole and in time; parsing it (or waiting for another worker's
    parse) takes longer than the request's deadline: no deadline, the value is judged."""
    import json

    from conformance import json_text

    image = "QUJD" * (json_text.KEPT_BODY_BYTES // 2)
    body = json.dumps({"created": 1700000000, "data": [{"b64_json": image}]}).encode()
    real = json_text._parsed

    def slow(*args: object) -> json_text.ReadBody:
        time.sleep(TIGHT.total_timeout + 0.5)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(json_text, "_parsed", slow)
    exchange = exchange_with(hb.fixed(200, body), spec.operation, cases["json"])
    assert exchange.transport_error is None, exchange.transport_detail
    assert exchange.json_body["data"][0]["b64_json"] == image
    assert exchange.body_size == len(body) and exchange.elapsed_s < TIGHT.total_timeout


def test_a_fetch_is_bounded_as_a_whole_across_its_redirects(spec: Spec) -> None:
    """Each hop of a redirect chain answers just inside the window: together they do not
    get a window each."""

    def slow_hop(sock: object, request: object, stop: threading.Event) -> None:
        stop.wait(0.4)
        hb.redirect_loop(sock, request, stop)  # type: ignore[arg-type]

    bounds = Bounds(read_timeout=0.6, total_timeout=1.0)
    with (
        serving(slow_hop, route="") as server,
        Client(Target(server.url), spec.operation, bounds) as client,
    ):
        started = time.monotonic()
        result = client.fetch(server.url + "/hop/0")
        elapsed = time.monotonic() - started
    assert elapsed < bounds.total_timeout + SLACK_S, f"{elapsed:.1f}s for one image"
    assert result.error == "deadline", result.detail
