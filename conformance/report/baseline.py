"""Baselines: accepted, known failures (TOML or YAML), so a CI gate fails only on new ones.

A baseline file holds one `[[known_failure]]` table per check:

    [[known_failure]]
    check_id = "IMG-COUNT"
    reason = "provider returns one image per request; ticket GW-123"
    expires = 2025-09-30        # optional; the entry stops excusing failures after this day

A `.yaml`/`.yml` file holds the same: `known_failure:` followed by a list of mappings.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import BaselineError
from conformance.model import Status
from conformance.report.atomic import write_atomic
from conformance.results import Baseline, BaselineEntry, RunResult

TABLE = "known_failure"
ENTRY_KEYS = frozenset({"check_id", "reason", "expires"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: expected a table")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise BaselineError(f"{where}: unknown keys {sorted(unknown)}")
    check_id, reason, expires = raw.get("check_id"), raw.get("reason", ""), raw.get("expires")
    if not isinstance(check_id, str) or not check_id.strip():
        raise BaselineError(f"{where}: check_id must be a non-empty string")
    check_id = check_id.strip().upper()  # as --checks: every ID of the catalogue is upper case
    if not isinstance(reason, str):
        raise BaselineError(f"{where}: reason must be a string")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError as exc:
            raise BaselineError(f"{where}: expires is not an ISO date: {expires!r}") from exc
    if expires is not None and not (isinstance(expires, date) and not hasattr(expires, "hour")):
        raise BaselineError(f"{where}: expires must be a date (YYYY-MM-DD)")
    return BaselineEntry(check_id, reason, expires)


def load_baseline(path: Path | str) -> Baseline:
    """Read a baseline file (TOML, or YAML of the same shape for `.yaml`/`.yml`); raises
    `BaselineError` with the offending entry."""
    try:
        text = Path(path).read_text("utf-8")
        data = yaml.safe_load(text) if Path(path).suffix in YAML_SUFFIXES else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise BaselineError(f"{path}: expected a mapping with a `{TABLE}` list")
    unknown = set(data) - {TABLE}
    if unknown:
        raise BaselineError(f"{path}: unknown top-level keys {sorted(unknown)}")
    raw_entries = data.get(TABLE, [])
    if not isinstance(raw_entries, list):
        raise BaselineError(f"{path}: {TABLE} must be an array of tables ([[{TABLE}]])")
    entries = [_entry(raw, f"{path}: {TABLE}[{i}]") for i, raw in enumerate(raw_entries)]
    seen: set[str] = set()
    for entry in entries:
        if entry.check_id in seen:
            raise BaselineError(f"{path}: {entry.check_id} is listed twice")
        seen.add(entry.check_id)
    return Baseline(tuple(entries), path=str(path))


def unknown_entries(baseline: Baseline, known: Sequence[str]) -> list[str]:
    """A warning for each entry of `baseline` that names no check of `known`: it can excuse
    nothing, and is probably a typo."""
    from conformance.select import unknown_check

    where = f"baseline {baseline.path}" if baseline.path else "baseline"
    return [
        unknown_check(where, entry.check_id, known) + "; the entry excuses nothing"
        for entry in baseline.entries
        if entry.check_id not in known
    ]


def toml_string(value: str) -> str:
    """`value` as a TOML basic string."""
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def render_baseline(result: RunResult, today: date | None = None) -> str:
    """A baseline that accepts every failing check of `result` (no expiry)."""
    today = today or date.today()
    lines = [
        "# gateway-conformance baseline: known failures that do not fail the gate.",
        f"# written {today.isoformat()} from a run against {result.target}",
        f"# spec {result.spec_title} sha256:{result.spec_sha256}",
        "# Add `expires = YYYY-MM-DD` to an entry to make it lapse after that day.",
    ]
    for check in result.checks:
        if check.status != Status.FAILED.value:
            continue
        first = check.failures[0].message if check.failures else check.statement
        lines += [
            "",
            f"[[{TABLE}]]",
            f"check_id = {toml_string(check.check_id)}",
            f"reason = {toml_string(f'{check.level}: {first}')}",
        ]
    return "\n".join(lines) + "\n"


def write_baseline(result: RunResult, path: Path | str) -> Path:
    return write_atomic(Path(path), render_baseline(result))
