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
from typing import Any

from conformance.checks.imaging import MAX_PIXELS
from conformance.checks.registry import Check, Problem
from conformance.config import API_KEY_ENV
from conformance.model import Case, Exchange, StreamEvent
from conformance.redaction import Redactor
from conformance.results import Failure, SseTimelineEntry

EXCERPT_CHARS = 2000
BODY_CHARS = 4000
MESSAGE_CHARS = 2000
"""Cap on a failure's message, expected and actual: a report stays small whatever is echoed."""
HEADER_CHARS = 500
MAX_HEADERS = 60
EVENT_CHARS = 300
"""Cap on each SSE event's data (and name) in an excerpt."""
TIMELINE_TYPE_CHARS = 64
"""Cap on a timeline entry's type (a timeline holds up to 200 entries)."""
THUMBNAIL_PX = 96
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ENV_REF = re.compile(r"\$(CONFORMANCE_[A-Z0-9_]+)")
API_KEY_HEADER = "api-key"


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
        message=redactor.text(_clip(message, MESSAGE_CHARS)),
        expected=redactor.text(_clip(first.expected, MESSAGE_CHARS)),
        actual=redactor.text(_clip(first.actual, MESSAGE_CHARS)),
        request={
            "method": request.method,
            "url": redactor.text(request.url),
            "headers": redactor.headers(cut_headers(request.headers)),
            "body": redactor.text(_clip(request.body.decode("utf-8", "replace"), BODY_CHARS)),
        },
        response={
            "status": exchange.status,
            "headers": redactor.headers(cut_headers(exchange.headers)),
            "excerpt": redactor.text(response_excerpt(exchange)),
            "transport_error": exchange.transport_error,
            "elapsed_ms": round(exchange.elapsed_s * 1000, 1),
        },
        curl=redactor.text(curl_command(exchange, redactor)),
        thumbnail=next((thumbnail(p.image) for p in problems if p.image), None),
        timeline=timeline(exchange.events) if exchange.events else [],
        case=case_record(case),
    )


def cut_headers(headers: dict[str, str]) -> dict[str, str]:
    """At most `MAX_HEADERS` headers, each name and value cut to `HEADER_CHARS`."""
    items = list(headers.items())
    kept = {_clip(k, HEADER_CHARS): _clip(v, HEADER_CHARS) for k, v in items[:MAX_HEADERS]}
    if len(items) > MAX_HEADERS:
        kept["…"] = f"{len(items) - MAX_HEADERS} more headers"
    return kept


def case_record(case: Case) -> dict[str, Any]:
    """What the case meant, beside the request that carried it (for `conformance replay`);
    only the suite's own words, no value of the request."""
    return {
        "kind": case.kind,
        "expect": case.expect,
        "rule": case.rule,
        "pointer": case.pointer,
        "tags": list(case.tags),
        "content_type": case.content_type,
        "raw": case.raw_body is not None,
    }


def shorten_base64(text: str) -> str:
    """Replace long base64 runs with their first characters and their length."""
    return _BASE64_RUN.sub(lambda m: f"{m.group(0)[:24]}…[{len(m.group(0))} base64 chars]", text)


def response_excerpt(exchange: Exchange) -> str:
    if exchange.transport_error:
        head = f"[{exchange.transport_error}] {_clip(exchange.transport_detail, MESSAGE_CHARS)}"
        return _clip(head + "\n" + _body_text(exchange), EXCERPT_CHARS)
    return _clip(_body_text(exchange), EXCERPT_CHARS)


def _body_text(exchange: Exchange) -> str:
    if exchange.events is not None:
        lines = []
        for event in exchange.events[:50]:
            prefix = f"event: {_clip(event.event, EVENT_CHARS)}\n" if event.event else ""
            lines.append(f"{prefix}data: {_clip(shorten_base64(event.data), EVENT_CHARS)}")
        if len(exchange.events) > 50:
            lines.append(f"… {len(exchange.events) - 50} more events")
        return "\n\n".join(lines)
    return shorten_base64(exchange.body[: EXCERPT_CHARS * 50].decode("utf-8", "replace"))


def curl_command(exchange: Exchange, redactor: Redactor | None = None) -> str:
    """A shell line that sends the same request. A header that carries a secret is written
    as a reference to an environment variable (`"$CONFORMANCE_API_KEY"` for the api key, one
    `CONFORMANCE_HEADER_<NAME>` per other header), so the line runs as pasted once those are
    set; the caller still redacts the whole line."""
    request = exchange.request
    parts = ["curl", "-sS", "-N", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        if name in ("user-agent", "accept"):
            continue
        secret = redactor is not None and redactor.text(value) != value
        if secret and _HEADER_NAME.fullmatch(name):
            parts += ["-H", f'"{name}: ${secret_env_var(name)}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.body.decode("utf-8", "replace")
    parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


def secret_env_var(header: str) -> str:
    """The environment variable a curl line reads the value of secret `header` from."""
    if header.lower() == API_KEY_HEADER:
        return API_KEY_ENV
    return "CONFORMANCE_HEADER_" + re.sub(r"[^A-Z0-9]", "_", header.upper())


def curl_env_vars(curl: str) -> list[str]:
    """The environment variables a curl line expects (in order of appearance)."""
    return list(dict.fromkeys(_ENV_REF.findall(curl)))


def thumbnail(image: bytes) -> str | None:
    """A small PNG (base64) of `image`, or None when it does not decode."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as img:
            width, height = img.size  # from the header: nothing is decoded yet
            if width * height > MAX_PIXELS:  # the checks' cap: a bomb is never decoded
                return None
            img.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            img.convert("RGB").save(out, format="PNG")
            return base64.b64encode(out.getvalue()).decode()
    except Exception:  # any undecodable image simply has no thumbnail
        return None


def timeline(events: list[StreamEvent]) -> list[SseTimelineEntry]:
    entries = []
    for event in events[:200]:
        kind, seq = _clip(event.event, TIMELINE_TYPE_CHARS) or "message", None
        data = event.payload
        if isinstance(data, dict):
            kind = _clip(str(data.get("type", kind)), TIMELINE_TYPE_CHARS)
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
