"""Failures as plain text, for JUnit messages and pytest item reports."""

from __future__ import annotations

from conformance.results import CheckResult


def failure_lines(check: CheckResult, limit: int, rest: str = "see results.json") -> list[str]:
    """Up to `limit` failures of `check`: case, message, expected/actual, curl line; `rest` says
    where the others are (a file that exists beside the output)."""
    lines: list[str] = []
    for failure in check.failures[:limit]:
        lines.append(f"case {failure.case_id}: {failure.case_title}")
        lines.append(f"  {failure.message}")
        if failure.expected or failure.actual:
            lines.append(f"  expected: {failure.expected}")
            lines.append(f"  actual:   {failure.actual}")
        if failure.curl:
            lines.append(f"  {failure.curl}")
    hidden = len(check.failures) - limit
    if hidden > 0:
        lines.append(f"... and {hidden} more ({rest})")
    return lines
