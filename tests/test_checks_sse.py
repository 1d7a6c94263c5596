"""Checks of the event stream answering a valid `stream: true` request."""

from __future__ import annotations

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
