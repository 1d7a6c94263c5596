"""Turn a failed check on one exchange into a `Failure` a person can act on.

A failure carries the request (headers redacted), the status, headers and a response excerpt
(long base64 shortened), expected vs actual, a curl line that reproduces it, a thumbnail of the
image when one was decoded, and for streams the event timeline.
"""

from __future__ import annotations

import base64
import io
import re
import shlex

from conformance.checks.registry import Check, Problem
from conformance.model import Exchange, StreamEvent
from conformance.redaction import Redactor
from conformance.results import Failure, SseTimelineEntry

EXCERPT_CHARS = 2000
BODY_CHARS = 4000
THUMBNAIL_PX = 96
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")


def failure_record(
    chk: Check, exchange: Exchange, problems: list[Problem], redactor: Redactor
) -> Failure:
    """The `Failure` for `chk` failing on `exchange` with `problems`."""
    first = problems[0]
    message = "; ".join(p.message for p in problems[:5])
    if len(problems) > 5:
        message += f"; and {len(problems) - 5} more"
    case = exchange.case
    request = exchange.request
    return Failure(
        check_id=chk.id,
        level=chk.level.value,
        case_id=case.id,
        case_title=redactor.text(case.title),
        message=redactor.text(message),
        expected=redactor.text(first.expected),
        actual=redactor.text(first.actual),
        request={
            "method": request.method,
            "url": redactor.text(request.url),
            "headers": redactor.headers(request.headers),
            "body": redactor.text(_clip(request.body.decode("utf-8", "replace"), BODY_CHARS)),
        },
        response={
            "status": exchange.status,
            "headers": redactor.headers(exchange.headers),
            "excerpt": redactor.text(response_excerpt(exchange)),
            "transport_error": exchange.transport_error,
            "elapsed_ms": round(exchange.elapsed_s * 1000, 1),
        },
        curl=redactor.text(curl_command(exchange)),
        thumbnail=next((thumbnail(p.image) for p in problems if p.image), None),
        timeline=timeline(exchange.events) if exchange.events else [],
    )


def shorten_base64(text: str) -> str:
    """Replace long base64 runs with their first characters and their length."""
    return _BASE64_RUN.sub(lambda m: f"{m.group(0)[:24]}…[{len(m.group(0))} base64 chars]", text)


def response_excerpt(exchange: Exchange) -> str:
    if exchange.transport_error:
        head = f"[{exchange.transport_error}] {exchange.transport_detail}"
        return _clip(head + "\n" + _body_text(exchange), EXCERPT_CHARS)
    return _clip(_body_text(exchange), EXCERPT_CHARS)


def _body_text(exchange: Exchange) -> str:
    if exchange.events is not None:
        lines = []
        for event in exchange.events[:50]:
            prefix = f"event: {event.event}\n" if event.event else ""
            lines.append(f"{prefix}data: {shorten_base64(event.data)}")
        if len(exchange.events) > 50:
            lines.append(f"… {len(exchange.events) - 50} more events")
        return "\n\n".join(lines)
    return shorten_base64(exchange.body[: EXCERPT_CHARS * 50].decode("utf-8", "replace"))


def curl_command(exchange: Exchange) -> str:
    """A shell line that sends the same request (secrets are redacted by the caller)."""
    request = exchange.request
    parts = ["curl", "-sS", "-N", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name in ("user-agent", "accept"):
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.body.decode("utf-8", "replace")
    parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


def thumbnail(image: bytes) -> str | None:
    """A small PNG (base64) of `image`, or None when it does not decode."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as img:
            img.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            img.convert("RGB").save(out, format="PNG")
            return base64.b64encode(out.getvalue()).decode()
    except Exception:  # any undecodable image simply has no thumbnail
        return None


def timeline(events: list[StreamEvent]) -> list[SseTimelineEntry]:
    entries = []
    for event in events[:200]:
        kind, seq = event.event or "message", None
        data = event.payload
        if isinstance(data, dict):
            kind = str(data.get("type", kind))
            raw_seq = data.get("sequence_number")
            seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else None
        elif event.data.strip() == "[DONE]":
            kind = "[DONE]"
        entries.append(
            SseTimelineEntry(type=kind, sequence_number=seq, t_ms=round(event.t_s * 1000, 1))
        )
    return entries


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more chars]"
