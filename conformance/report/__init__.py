"""Reports: HTML, JUnit XML and JSON, baselines and diffs."""

from __future__ import annotations

from pathlib import Path

from conformance.report.diff import diff_files
from conformance.report.html import write_html
from conformance.report.jsonreport import load_results, write_json
from conformance.report.junit import write_junit
from conformance.report.summary import write_summary
from conformance.results import RunResult

REPORT_FILES = {
    "html": "report.html",
    "json": "results.json",
    "junit": "junit.xml",
    "summary": "summary.md",
}


def write_reports(result: RunResult, out_dir: Path) -> dict[str, Path]:
    """Write `report.html`, `results.json`, `junit.xml` and `summary.md` into `out_dir`, each
    atomically.

    Returns the written paths keyed `html`, `json`, `junit`, `summary`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / REPORT_FILES["html"]
    return {
        "json": write_json(result, out_dir / REPORT_FILES["json"]),
        "junit": write_junit(result, out_dir / REPORT_FILES["junit"]),
        "html": write_html(result, html),
        "summary": write_summary(result, out_dir / REPORT_FILES["summary"], html),
    }


def render_from_json(path: Path | str, out_dir: Path | str | None = None) -> dict[str, Path]:
    """Re-render the reports of a saved `results.json` (next to it unless `out_dir` is given)."""
    source = Path(path)
    result = load_results(source)
    return write_reports(result, Path(out_dir) if out_dir else source.parent)


__all__ = ["REPORT_FILES", "diff_files", "render_from_json", "write_reports"]
