"""Checks of the event stream answering a valid `stream: true` request."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

from exchanges import (
    b64,
    case,
    events,
    exchange,
    fails,
    image,
    image_body,
    image_stream,
    passes,
    run,
    run_all,
    spec,
)
from PIL import Image

from conformance.checks.sse import completion_watch
from conformance.model import FetchResult, StreamEvent

COMPLETED = "image_generation.completed"


def streamed(n: int = 1, size: str = "1024x1024", **extra: Any) -> Any:
    return case({"stream": True, "n": n, "size": size, **extra})


def stream(evs: list[StreamEvent], n: int = 1, **fields: Any) -> Any:
    return exchange(streamed(n), events=evs, **fields)


def payloads(evs: list[StreamEvent]) -> list[Any]:
    return [json.loads(e.data) if e.data != "[DONE]" else "[DONE]" for e in evs]


def test_a_correct_stream_passes_every_stream_check() -> None:
    good = stream(image_stream(n=2), n=2)
    for check_id in (
        "SSE-CONTENT-TYPE",
        "SSE-EVENT-SCHEMA",
        "SSE-SEQUENCE",
        "SSE-COMPLETED-COUNT",
        "SSE-NOTHING-AFTER-END",
        "SSE-TERMINATES",
        "SSE-NO-ERROR-EVENT",
        "SSE-IMAGE-SIZE",
        "SSE-USAGE-SUM",
        "SSE-CREATED-AT-SECONDS",
    ):
        assert passes(run(check_id, good)), check_id


def test_content_type() -> None:
    outcome = run("SSE-CONTENT-TYPE", exchange(streamed(), json_body=image_body()))
    assert fails(outcome) and outcome[0].expected == "text/event-stream"
    assert run("SSE-CONTENT-TYPE", exchange(case(), json_body=image_body())) is None


def test_event_schema() -> None:
    items = payloads(image_stream())
    items[0]["type"] = "image_generation.progress"
    outcome = run("SSE-EVENT-SCHEMA", stream(events(*items)))
    assert fails(outcome) and "type" in outcome[0].message
    assert fails(run("SSE-EVENT-SCHEMA", stream(events("not json", *items[1:]))))
    items = payloads(image_stream())
    items[1]["size"] = None
    assert fails(run("SSE-EVENT-SCHEMA", stream(events(*items))))


def test_sse_framing_tolerates_done_and_empty_events() -> None:
    evs = image_stream()
    evs.insert(1, StreamEvent("ping", "", "", 3000, 0.0))
    assert passes(run("SSE-EVENT-SCHEMA", stream(evs)))
    assert passes(run("SSE-NOTHING-AFTER-END", stream(evs)))


def test_sequence() -> None:
    items = payloads(image_stream(n=2))
    items[2]["sequence_number"] = 1
    outcome = run("SSE-SEQUENCE", stream(events(*items), n=2))
    assert fails(outcome) and outcome[0].actual == "1"


def test_completed_count() -> None:
    outcome = run("SSE-COMPLETED-COUNT", stream(image_stream(n=1), n=2))
    assert fails(outcome) and outcome[0].expected == "2" and outcome[0].actual == "1"
    assert fails(run("SSE-COMPLETED-COUNT", stream(events("[DONE]"))))


def test_nothing_after_end() -> None:
    items = payloads(image_stream())
    late = {"type": "image_generation.partial_image", "b64_json": b64(8, 8)}
    outcome = run("SSE-NOTHING-AFTER-END", stream(events(*items[:-1], late, "[DONE]")))
    assert fails(outcome) and "event #2" in outcome[0].message
    error = {"type": "error", "error": {"message": "provider failed"}}
    assert fails(run("SSE-NOTHING-AFTER-END", stream(events(error, *items))))
    assert fails(run("SSE-NOTHING-AFTER-END", stream(events(*items, late))))


def test_terminates() -> None:
    cut = stream(image_stream()[:1], transport_error="deadline", detail="stream still open")
    outcome = run("SSE-TERMINATES", cut)
    assert fails(outcome) and "deadline" in outcome[0].message
    assert fails(run("SSE-TERMINATES", stream(image_stream(), transport_error="stream-too-long")))
    assert run("SSE-COMPLETED-COUNT", cut) is None  # a cut stream is judged by SSE-TERMINATES


def test_no_error_event() -> None:
    error = {"type": "error", "error": {"message": "content policy"}}
    outcome = run("SSE-NO-ERROR-EVENT", stream(events(error)))
    assert fails(outcome) and "content policy" in outcome[0].message
    assert (
        run(
            "SSE-NO-ERROR-EVENT",
            exchange(case({"stream": True}, expect="reject"), events=events(error)),
        )
        is None
    )


def test_image_size() -> None:
    items = payloads(image_stream(size="1024x1024"))
    outcome = run("SSE-IMAGE-SIZE", exchange(streamed(size="512x512"), events=events(*items)))
    assert fails(outcome) and outcome[0].actual == "1024x1024" and outcome[0].image
    items[1]["b64_json"] = "data:image/png;base64," + items[1]["b64_json"]
    assert fails(run("SSE-IMAGE-SIZE", stream(events(*items))))
    assert passes(
        run(
            "SSE-IMAGE-SIZE", exchange(streamed(size="auto"), events=image_stream(size="1536x1024"))
        )
    )


def test_usage_sum_and_created_at() -> None:
    items = payloads(image_stream())
    items[1]["usage"]["total_tokens"] = 7
    assert fails(run("SSE-USAGE-SUM", stream(events(*items))))
    items = payloads(image_stream())
    items[1]["created_at"] = int(time.time() * 1000)
    outcome = run("SSE-CREATED-AT-SECONDS", stream(events(*items)))
    assert fails(outcome) and "milliseconds" in outcome[0].message


def pair(size: str, plain_images: int, stream_images: int, stream_size: str | None = None) -> Any:
    tag = ("parity:p1",)
    body = {"n": plain_images, "size": size, "response_format": "b64_json"}
    shown = size if size != "auto" else "1024x1024"
    plain = exchange(case(body, id="plain", tags=tag), json_body=image_body(plain_images, shown))
    live = case({"n": plain_images, "size": size, "stream": True}, id="live", tags=tag)
    sent = exchange(live, events=image_stream(stream_images, stream_size or shown))
    return [plain, sent]


def test_parity() -> None:
    outcome = run_all("SSE-PARITY", pair("512x512", 2, 2))
    assert len(outcome) == 1 and outcome[0][0].case.id == "live" and passes(outcome[0][1])
    outcome = run_all("SSE-PARITY", pair("512x512", 2, 1))
    assert fails(outcome[0][1]) and outcome[0][1][0].actual == "1"
    assert fails(run_all("SSE-PARITY", pair("512x512", 1, 1, stream_size="256x256"))[0][1])
    assert passes(run_all("SSE-PARITY", pair("auto", 1, 1, stream_size="1536x1024"))[0][1])
    assert run_all("SSE-PARITY", pair("512x512", 1, 1)[:1]) is None


def test_parity_reads_url_answers_through_fetch() -> None:
    _, live = pair("512x512", 1, 1)
    urls = {"data": [{"url": "http://127.0.0.1:9/a.png"}]}
    plain = exchange(case({"size": "512x512"}, tags=("parity:p1",)), json_body=urls)

    def fetch(url: str) -> FetchResult:
        assert url == "http://127.0.0.1:9/a.png"
        return FetchResult(200, {}, image(256, 256))

    outcome = run_all("SSE-PARITY", [plain, live], fetch=fetch)
    assert fails(outcome[0][1]) and outcome[0][1][0].actual == "512x512"


def named(evs: list[StreamEvent]) -> list[StreamEvent]:
    """The same stream with each object's `type` moved to the SSE `event:` line."""
    out = []
    for ev in evs:
        data = json.loads(ev.data) if ev.data != "[DONE]" else None
        if isinstance(data, dict):
            name = data.pop("type")
            ev = StreamEvent(name, json.dumps(data), ev.id, ev.retry, ev.t_s)
        out.append(ev)
    return out


def test_event_name_types_an_object_without_type() -> None:
    good = stream(named(image_stream(n=2)), n=2)
    for check_id in ("SSE-COMPLETED-COUNT", "SSE-NOTHING-AFTER-END", "SSE-IMAGE-SIZE"):
        assert passes(run(check_id, good)), check_id
    unnamed = [StreamEvent("", e.data, "", None, e.t_s) for e in named(image_stream())]
    assert fails(run("SSE-COMPLETED-COUNT", stream(unnamed)))
    error = StreamEvent("error", json.dumps({"error": {"message": "quota"}}), "", None, 0.0)
    outcome = run("SSE-NO-ERROR-EVENT", stream([error]))
    assert fails(outcome) and "quota" in outcome[0].message
    disagreeing = StreamEvent(COMPLETED, json.dumps({"type": "error"}), "", None, 0.0)
    assert fails(run("SSE-COMPLETED-COUNT", stream([disagreeing])))  # `type` wins


def test_completion_watch_reads_event_names() -> None:
    watch = completion_watch(spec().operation, 1)
    evs = named(image_stream())
    assert [watch(ev) for ev in evs[:2]] == [False, True]


def test_created_at_may_be_old_but_not_in_the_future() -> None:
    items = payloads(image_stream())
    items[1]["created_at"] = int(time.time()) - 7 * 86_400
    assert passes(run("SSE-CREATED-AT-SECONDS", stream(events(*items))))
    items[1]["created_at"] = int(time.time()) + 7 * 86_400
    assert fails(run("SSE-CREATED-AT-SECONDS", stream(events(*items))))


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def with_completed_image(data: bytes, **fields: Any) -> Any:
    items = payloads(image_stream())
    items[1]["b64_json"] = encoded(data)
    items[1].update(fields)
    return stream(events(*items))


def test_completed_images_decode_whole() -> None:
    for kind in ("PNG", "JPEG", "WEBP"):
        assert passes(run("SSE-IMAGE-WHOLE", with_completed_image(image(1024, 1024, kind))))
    png, jpeg = image(1024, 1024), image(1024, 1024, "JPEG")
    for data in (png[:-12], png[: len(png) // 2], jpeg[:-2]):
        ex = with_completed_image(data)
        assert passes(run("SSE-IMAGE-SIZE", ex))  # the header reads and has the right size
        outcome = run("SSE-IMAGE-WHOLE", ex)
        assert fails(outcome) and "event #1" in outcome[0].message
    assert run("SSE-IMAGE-WHOLE", with_completed_image(b"not an image")) is None


def test_partial_images_are_judged_only_when_whole() -> None:
    assert passes(run("SSE-PARTIAL-IMAGE", stream(image_stream())))
    items = payloads(image_stream())
    items[0]["b64_json"] = b64(256, 256)
    outcome = run("SSE-PARTIAL-IMAGE", stream(events(*items)))
    assert fails(outcome) and outcome[0].actual == "256x256"
    for chunk in (image(1024, 1024)[:40], b"raw chunk bytes"):
        items[0]["b64_json"] = encoded(chunk)  # a chunk of image data: not judged
        assert run("SSE-PARTIAL-IMAGE", stream(events(*items))) is None
    auto = payloads(image_stream())
    auto[0]["b64_json"] = b64(1024, 1536)
    assert passes(run("SSE-PARTIAL-IMAGE", exchange(streamed(size="auto"), events=events(*auto))))


def test_event_output_format_names_its_image() -> None:
    assert passes(
        run("SSE-OUTPUT-FORMAT", with_completed_image(image(1024, 1024), output_format="png"))
    )
    webp = with_completed_image(image(1024, 1024, "WEBP"), output_format="png")
    outcome = run("SSE-OUTPUT-FORMAT", webp)
    assert fails(outcome) and outcome[0].actual == "WebP"
    jpeg = with_completed_image(image(1024, 1024, "JPEG"), output_format="jpeg")
    assert passes(run("SSE-OUTPUT-FORMAT", jpeg))
    assert run("SSE-OUTPUT-FORMAT", stream(image_stream())) is None  # nothing reported


def test_event_background_transparent_goes_with_alpha() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (1024, 1024), (0, 0, 0, 0)).save(out, "PNG")
    assert passes(
        run("SSE-BACKGROUND-ALPHA", with_completed_image(out.getvalue(), background="transparent"))
    )
    opaque = with_completed_image(image(1024, 1024), background="transparent")
    assert fails(run("SSE-BACKGROUND-ALPHA", opaque))
    plain = with_completed_image(image(1024, 1024), background="opaque")
    assert run("SSE-BACKGROUND-ALPHA", plain) is None


def test_event_echo_matches_the_request() -> None:
    assert passes(run("SSE-ECHO", stream(image_stream())))
    items = payloads(image_stream())
    items[1]["size"] = "512x512"
    outcome = run("SSE-ECHO", stream(events(*items)))
    assert fails(outcome) and outcome[0].actual == "512x512"
    quality = payloads(image_stream())
    quality[1]["quality"] = "standard"
    hd = exchange(streamed(quality="hd"), events=events(*quality))
    assert fails(run("SSE-ECHO", hd))
    quality[1]["quality"] = "high"  # a provider's own word: not compared
    assert passes(run("SSE-ECHO", exchange(streamed(quality="hd"), events=events(*quality))))
    auto = payloads(image_stream())
    auto[1]["size"] = "1536x1024"
    assert passes(run("SSE-ECHO", exchange(streamed(size="auto"), events=events(*auto))))


def with_name(name: str, payload: Any) -> StreamEvent:
    return StreamEvent(name, json.dumps(payload), "", None, 0.0)


def test_event_line_names_the_data_type() -> None:
    items = payloads(image_stream())[:2]
    same = [with_name(p["type"], p) for p in items]
    assert passes(run("SSE-EVENT-NAME", stream(same)))
    swapped = [with_name(COMPLETED, items[0]), with_name(COMPLETED, items[1])]
    outcome = run("SSE-EVENT-NAME", stream(swapped))
    assert fails(outcome) and "event #0" in outcome[0].message
    default = [with_name("message", p) for p in items]  # the SSE default name names nothing
    assert run("SSE-EVENT-NAME", stream(default)) is None
    assert run("SSE-EVENT-NAME", stream(image_stream())) is None


def test_stream_extension_fields_take_effect_at_should() -> None:
    def partial(index: int) -> dict[str, Any]:
        return {
            "type": "image_generation.partial_image",
            "partial_image_index": index,
            "b64_json": b64(1024, 1024),
        }

    done = payloads(image_stream())[1]
    asked = streamed(partial_images=2)
    good = exchange(asked, events=events(partial(0), partial(1), done))
    assert passes(run("SSE-EXTENSIONS-HONOURED", good))
    too_many = exchange(asked, events=events(partial(0), partial(1), partial(1), done))
    outcome = run("SSE-EXTENSIONS-HONOURED", too_many)
    assert fails(outcome) and outcome[0].actual == "3"
    from_one = exchange(asked, events=events(partial(1), partial(2), done))
    outcome = run("SSE-EXTENSIONS-HONOURED", from_one)
    assert fails(outcome) and outcome[0].actual == "2"
    none_asked = exchange(streamed(partial_images=0), events=events(done))
    assert passes(run("SSE-EXTENSIONS-HONOURED", none_asked))
    webp = exchange(streamed(output_format="webp"), events=events(done))
    outcome = run("SSE-EXTENSIONS-HONOURED", webp)
    assert fails(outcome) and outcome[0].expected == "WebP"
    assert run("SSE-EXTENSIONS-HONOURED", stream(image_stream())) is None
