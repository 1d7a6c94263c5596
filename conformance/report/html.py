"""`report.html`: one self-contained page (inline CSS, a small inline filter script)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from conformance.evidence import curl_env_vars
from conformance.gate import decide
from conformance.model import NOT_JSON, Status, Verdict, parse_json
from conformance.redaction import Redactor
from conformance.report.atomic import write_atomic
from conformance.report.shapes import shapes
from conformance.results import CheckResult, Failure, RunResult

TEMPLATE = "report.html.j2"
FILTER_SCRIPT = "filter.js"
MAX_EXAMPLES = 3
"""Failures shown in full per shape of a check's failures (the rest: results.json)."""
OPEN_CARDS = 3
"""Shape cards open when the page loads; the others are collapsed to their one-line summary."""
MAX_EXCERPT_CHARS = 4000
STATUS_ORDER = {Status.FAILED.value: 0, Status.ERROR.value: 1, Status.PASSED.value: 2}
LEVEL_ORDER = {"MUST": 0, "SHOULD": 1, "MAY": 2}
VERDICT_CLASS = {
    Verdict.CONFORMANT: "ok",
    Verdict.CONFORMANT_WITH_WARNINGS: "warn",
    Verdict.NOT_CONFORMANT: "bad",
    Verdict.INCONCLUSIVE: "unknown",
    Verdict.INCOMPLETE: "unknown",
}
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


@dataclass(frozen=True)
class FailureView:
    """One failure as the page shows it."""

    failure: Failure
    request: str
    response: str
    thumbnail_src: str | None
    curl_env: list[str] = field(default_factory=list)
    """The environment variables the curl line reads secrets from."""


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("conformance.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def prepare() -> None:
    """Compile the page's template now: a run calls this in the background while it sends,
    so the report written after its last answer does not wait for jinja's compiler."""
    _environment().get_template(TEMPLATE)
    _filter_script()


@cache
def _filter_script() -> tuple[Markup, str]:
    """The page's only script and its CSP hash (no other script may run)."""
    source = _environment().loader.get_source(_environment(), FILTER_SCRIPT)[0]  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    return Markup(source), f"'sha256-{digest}'"


def _cut(text: str) -> str:
    if len(text) > MAX_EXCERPT_CHARS:
        return f"{text[:MAX_EXCERPT_CHARS]}\n… ({len(text) - MAX_EXCERPT_CHARS} more characters)"
    return text


def _pretty(body: Any) -> str:
    """A body as indented JSON when it is JSON, else as it is."""
    if isinstance(body, str):
        parsed = parse_json(body)  # bounded: too deep or too wide stays text
        if parsed is NOT_JSON:
            return body
        body = parsed
    try:
        return json.dumps(body, indent=2, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return str(body)


def _headers(record: dict[str, Any]) -> list[str]:
    headers = record.get("headers") or {}
    return (
        [f"{name}: {value}" for name, value in headers.items()] if isinstance(headers, dict) else []
    )


def request_text(record: dict[str, Any]) -> str:
    """A request record as an HTTP message (or as JSON when it has another shape)."""
    if not record:
        return ""
    if "method" not in record or "url" not in record:
        return _cut(_pretty(record))
    lines = [f"{record['method']} {record['url']}", *_headers(record)]
    if record.get("body") not in (None, ""):
        lines += ["", _pretty(record["body"])]
    return _cut("\n".join(lines))


def response_text(record: dict[str, Any]) -> str:
    """A response record as an HTTP message excerpt (or as JSON when it has another shape)."""
    if not record:
        return ""
    if "status" not in record and "excerpt" not in record:
        return _cut(_pretty(record))
    status = record.get("status")
    head = f"HTTP {status}" if status is not None else "no HTTP status"
    if record.get("elapsed_ms") is not None:
        head += f"  ({record['elapsed_ms']} ms)"
    lines = [head]
    if record.get("transport_error"):
        lines.append(f"transport error: {record['transport_error']}")
    lines += _headers(record)
    body = record["excerpt"] if "excerpt" in record else record.get("body")
    if body not in (None, ""):
        lines += ["", _pretty(body)]
    return _cut("\n".join(lines))


@dataclass(frozen=True)
class CoverageSection:
    """One entry of `result.coverage` as a table: records (`columns` set), pairs, or text."""

    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    text: str = ""


def cell_text(value: Any) -> str:
    """A coverage value as compact text for a table cell."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(
            f"({cell_text(v)})" if isinstance(v, list | tuple) else cell_text(v) for v in value
        )
    return str(value)


def coverage_sections(coverage: dict[str, Any]) -> list[CoverageSection]:
    """The coverage dict as tables, whatever its shape (field -> values, pairs, cut, ...)."""
    sections = []
    for title, value in coverage.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            columns = list(dict.fromkeys(k for record in value.values() for k in record))
            rows = [(key, [cell_text(rec.get(c)) for c in columns]) for key, rec in value.items()]
            sections.append(CoverageSection(title, columns, rows))
        elif isinstance(value, dict):
            rows = [(key, [cell_text(v)]) for key, v in value.items()]
            sections.append(CoverageSection(title, [], rows))
        else:
            sections.append(CoverageSection(title, text=cell_text(value)))
    return sections


def thumbnail_src(thumbnail: str | None) -> str | None:
    """A `data:` URL for a base64 PNG thumbnail; None when absent or not base64."""
    if not thumbnail or not _BASE64.match(thumbnail):
        return None
    return f"data:image/png;base64,{thumbnail}"


def matrix_order(checks: list[CheckResult]) -> list[CheckResult]:
    """Failing rows first (MUST before SHOULD before MAY), then passed, then skipped."""
    return sorted(
        checks,
        key=lambda c: (STATUS_ORDER.get(c.status, 3), LEVEL_ORDER.get(c.level, 3)),
    )


@dataclass(frozen=True)
class ShapeCard:
    """One card of the page: the failures of one check that share a shape."""

    check: CheckResult
    shape: str
    count: int
    examples: list[FailureView]
    open: bool

    @property
    def hidden(self) -> int:
        return self.count - len(self.examples)


def _view(f: Failure) -> FailureView:
    return FailureView(
        f,
        request_text(f.request),
        response_text(f.response),
        thumbnail_src(f.thumbnail),
        curl_env_vars(f.curl),
    )


def shape_cards(failing: list[CheckResult]) -> list[tuple[CheckResult, list[ShapeCard]]]:
    """Each failing check with one card per shape of its failures; the first `OPEN_CARDS`
    cards of the page open."""
    out = []
    shown = 0
    for check in failing:
        cards = []
        for group in shapes(check.failures):
            examples = [_view(f) for f in group.failures[:MAX_EXAMPLES]]
            cards.append(ShapeCard(check, group.text, group.count, examples, shown < OPEN_CARDS))
            shown += 1
        out.append((check, cards))
    return out


def render_html(result: RunResult) -> str:
    """The whole report page for `result`."""
    rows = matrix_order(result.checks)
    failing = [c for c in rows if c.failures]
    script, script_hash = _filter_script()
    counts = {s.value: sum(1 for c in rows if c.status == s.value) for s in Status}
    template = _environment().get_template(TEMPLATE)
    gate = decide(result)
    return template.render(
        result=result,
        verdict=gate.verdict.value,
        verdict_class=VERDICT_CLASS[gate.verdict],
        gate=gate,
        rows=rows,
        counts=counts,
        levels=sorted({c.level for c in rows}, key=lambda lv: LEVEL_ORDER.get(lv, 3)),
        statuses=[s.value for s in Status],
        failing=shape_cards(failing),
        coverage=coverage_sections(result.coverage),
        script=script,
        script_hash=script_hash,
    )


def write_html(result: RunResult, path: Path, redactor: Redactor | None = None) -> Path:
    return write_atomic(path, (redactor or Redactor([])).output(render_html(result)))
