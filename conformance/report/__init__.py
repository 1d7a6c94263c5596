"""Reports: HTML, JUnit XML and JSON, baselines and diffs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conformance.errors import ReportDirError
from conformance.redaction import Redactor
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


def write_reports(result: RunResult, out_dir: Path, secrets: Sequence[str] = ()) -> dict[str, Path]:
    """Write `report.html`, `results.json`, `junit.xml` and `summary.md` into `out_dir`, each
    atomically.

    `secrets` are masked in each file's final text (after every rendering step), the last
    thing before its bytes are written. Returns the written paths keyed `html`, `json`,
    `junit`, `summary`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    redactor = Redactor(secrets)
    html = out_dir / REPORT_FILES["html"]
    return {
        "json": write_json(result, out_dir / REPORT_FILES["json"], redactor),
        "junit": write_junit(result, out_dir / REPORT_FILES["junit"], redactor),
        "html": write_html(result, html, redactor),
        "summary": write_summary(result, out_dir / REPORT_FILES["summary"], html, redactor),
    }


def check_report_dir(out_dir: Path) -> None:
    """Raise `ReportDirError` (one line) unless reports can be written into `out_dir`: checked
    before the first request, so an unwritable directory costs nothing."""
    import tempfile

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".conformance-", suffix=".tmp"):
            pass
    except OSError as exc:
        raise ReportDirError(
            f"--report-dir {out_dir} is not writable: {exc.strerror or exc}"
        ) from None


def render_from_json(path: Path | str, out_dir: Path | str | None = None) -> dict[str, Path]:
    """Re-render the reports of a saved `results.json` (next to it unless `out_dir` is given)."""
    source = Path(path)
    result = load_results(source)
    return write_reports(result, Path(out_dir) if out_dir else source.parent)


__all__ = ["REPORT_FILES", "check_report_dir", "diff_files", "render_from_json", "write_reports"]
