"""`summary.md`: the run in a few lines of Markdown, for a CI page (GitHub's job summary).

It shows what the gate decided (`conformance.gate.decide`, the one decision): the headline, each
failing check with its level, what it means for the gate and its first failure, the counts,
the baseline, and where report.html is. `append_step_summary` adds it to the file named by
`GITHUB_STEP_SUMMARY` when a GitHub Actions job runs the suite.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from conformance.environment import environment_lines, rejudged_line, timing_retry_line
from conformance.gate import Disposition, decide
from conformance.model import Status
from conformance.plan.prices import estimate_line
from conformance.redaction import Redactor
from conformance.report.atomic import write_atomic
from conformance.results import BaselineEntry, CheckResult, RunResult, unjudged_counts

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
MESSAGE_CHARS = 240
MEANING = {
    Disposition.FAILS_GATE: "fails the gate",
    Disposition.WARNING: "warning",
    Disposition.KNOWN: "known (baseline)",
}


def _cell(text: str) -> str:
    """`text` fit for one Markdown table cell: one line, pipes escaped, clipped."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= MESSAGE_CHARS else flat[: MESSAGE_CHARS - 1] + "…"


def _first_failure(check: CheckResult) -> str:
    return check.failures[0].message if check.failures else ""


def render_summary(result: RunResult, html_path: Path | str | None = None) -> str:
    """The Markdown summary of `result`."""
    gate = decide(result)
    lines = [f"## Gateway conformance: {gate.headline}", ""]
    scope = "; ".join(gate.scope.phrases())
    if scope:
        lines += [f"Scope: {scope}", ""]
        lines += [f"- {line}" for line in gate.scope.out_reasons()]
        lines += [""] if gate.scope.out else []
    lines += [f"- {reason}" for reason in gate.reasons]
    if gate.reasons:
        lines.append("")
    lines.append(
        f"Target `{result.target}` · spec {result.spec_title} (`{result.spec_sha256[:12]}`) · "
        f"seed {result.seed}" + (" · strict" if result.strict else "")
    )
    lines.append("")
    failing = [c for c in result.checks if gate.dispositions.get(c.check_id) in MEANING]
    if failing:
        order = list(MEANING)
        failing.sort(key=lambda c: (order.index(gate.dispositions[c.check_id]), c.check_id))
        lines += ["| check | level | gate | first failure |", "|---|---|---|---|"]
        for c in failing:
            meaning = MEANING[gate.dispositions[c.check_id]]
            if c.errors:
                meaning += " (check error)"
            lines.append(f"| `{c.check_id}` | {c.level} | {meaning} | {_cell(_first_failure(c))} |")
        lines.append("")
    counts = {s: sum(1 for c in result.checks if c.status == s.value) for s in Status}
    stats = result.stats
    lines.append(
        f"{counts[Status.PASSED]} checks passed, {counts[Status.FAILED]} failed, "
        f"{counts[Status.ERROR]} errors, {unjudged_counts(result.checks)}; "
        f"{stats.requests} requests, {stats.images} images requested, {stats.duration_s:.1f}s"
    )
    cost = estimate_line(result.coverage)
    if cost:
        lines.append(cost[0].upper() + cost[1:])
    lines += [f"Environment: {line}" for line in environment_lines(result.environment_problems)]
    retried = result.coverage.get("timing_retries")
    if retried:
        lines.append(f"{timing_retry_line(retried)} (results.json `coverage.timing_retries`)")
    rejudged = result.coverage.get("timing_rejudged")
    if rejudged:
        lines.append(f"{rejudged_line(rejudged)} (results.json `coverage.timing_rejudged`)")
    if result.baseline:
        lines += ["", f"Baseline `{result.baseline.path}`:"]
        for entry in gate.known:
            reason = _cell(entry.reason) or "no reason given"
            lines.append(f"- known failure `{entry.check_id}`: {reason}{_until(entry)}")
        for entry in gate.expired:
            lines.append(f"- expired entry `{entry.check_id}` ({entry.expires}): fails the gate")
        for entry in gate.stale:
            lines.append(f"- stale entry `{entry.check_id}`: no longer failing")
    if html_path:
        lines += ["", f"Full report: `{html_path}`"]
    return "\n".join(lines) + "\n"


def _until(entry: BaselineEntry) -> str:
    return f" (until {entry.expires})" if entry.expires else ""


def write_summary(
    result: RunResult,
    path: Path,
    html_path: Path | str | None = None,
    redactor: Redactor | None = None,
) -> Path:
    """Write summary.md; `redactor` masks secrets in the final text, the last step."""
    text = render_summary(result, html_path)
    return write_atomic(path, (redactor or Redactor([])).output(text))


def append_step_summary(summary: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """Append `summary` to `$GITHUB_STEP_SUMMARY` when it is set; the file appended to."""
    target = (os.environ if env is None else env).get(STEP_SUMMARY_ENV)
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as out:
        out.write(summary.read_text("utf-8") + "\n")
    return Path(target)
