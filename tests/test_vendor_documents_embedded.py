"""A run against each vendor document, as a user types it (no --base-url: the embedded
reference gateway and fake upstream follow the document), charges the gateway with nothing:
it ends CONFORMANT, and the checks whose subject the document does not declare are named not
applicable (not left unjudged). One smoke run per document, shared by its assertions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance import cli

THIRD_PARTY = Path(__file__).resolve().parent.parent / "specs" / "third_party"
NOT_APPLICABLE = "not-applicable"
DOCUMENTS = {
    "openai-3.1": (
        THIRD_PARTY / "openai" / "openapi.yaml",
        # no error response, no fallbacks field, no error event among the stream's events
        {"ERR-ENVELOPE-SCHEMA", "FALLBACK-ORDER", "SSE-NO-ERROR-EVENT"},
    ),
    "openai-3.0": (
        THIRD_PARTY / "openai" / "openapi-3.0.yaml",
        {"ERR-ENVELOPE-SCHEMA", "FALLBACK-ORDER", "STREAM-NOT-BUFFERED", "SSE-NO-ERROR-EVENT"},
    ),
    "azure": (
        THIRD_PARTY / "azure" / "inference.json",
        {"FALLBACK-ORDER", "STREAM-NOT-BUFFERED", "SSE-EVENT-SCHEMA"},
    ),
}


def embedded_run(document: Path, report_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["run", "--spec", str(document), "--budget", "smoke", "--report-dir", str(report_dir)]
    code = cli.main([*argv, *extra])
    result = json.loads((report_dir / "results.json").read_text())
    return code, {**result, "_report_dir": str(report_dir)}


def result_reason(result: dict[str, Any], check_id: str) -> str:
    return next(c["unjudged_reason"] for c in result["checks"] if c["check_id"] == check_id)


@pytest.fixture(scope="module", params=sorted(DOCUMENTS))
def judged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, int, dict[str, Any]]:
    name: str = request.param
    code, result = embedded_run(DOCUMENTS[name][0], tmp_path_factory.mktemp(name))
    return name, code, result


def test_the_embedded_run_is_conformant(judged: tuple[str, int, dict[str, Any]]) -> None:
    name, code, result = judged
    failed = [c["check_id"] for c in result["checks"] if c["status"] == "failed"]
    unjudged = [c["check_id"] for c in result["checks"] if c["status"] == "skipped"]
    assert code == 0 and failed == [], (name, result["verdict"], failed, unjudged)
    assert result["verdict"] == "CONFORMANT"  # not even a warning charged to the reference


def test_undeclared_subjects_are_named_not_applicable(
    judged: tuple[str, int, dict[str, Any]],
) -> None:
    name, _, result = judged
    kinds = {c["check_id"]: c["unjudged_kind"] for c in result["checks"]}
    expected = DOCUMENTS[name][1]
    assert {kinds[i] for i in expected} == {NOT_APPLICABLE}, {i: kinds[i] for i in expected}
    named = {i for i, kind in kinds.items() if kind == NOT_APPLICABLE}
    assert named <= set(result["coverage"]["not_applicable"])
    junit = (Path(result["_report_dir"]) / "junit.xml").read_text()
    assert f'message="not applicable: {result_reason(result, sorted(expected)[0])}' in junit


def test_bifrost_object_fallbacks_are_sent_and_judged(tmp_path: Path) -> None:
    """Bifrost's docs list `fallbacks` as `{provider, model}` objects: the plan sends them so,
    the reference gateway tries them, and FALLBACK-ORDER is judged (not left unjudged)."""
    code, result = embedded_run(THIRD_PARTY / "bifrost" / "openapi.yaml", tmp_path)
    checks = {c["check_id"]: c for c in result["checks"]}
    failed = [i for i, c in checks.items() if c["status"] == "failed"]
    assert failed == [] and code == 0, (code, result["verdict"])
    assert checks["FALLBACK-ORDER"]["status"] == "passed" and checks["FALLBACK-ORDER"]["cases_run"]
