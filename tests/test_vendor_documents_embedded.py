"""A run against each vendor document, as a user types it (no --base-url: the embedded
reference gateway and fake upstream follow the document), charges the gateway with nothing.
The checks whose subject the document does not declare are named not applicable; the MUST
ones among them leave the run INCOMPLETE (exit 4) with the flag that accepts them, and with
that flag the run is CONFORMANT. One smoke run per document, shared by its assertions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance import cli
from conformance.checks.registry import REGISTRY
from conformance.model import Level

THIRD_PARTY = Path(__file__).resolve().parent.parent / "conformance" / "specs" / "third_party"
NOT_APPLICABLE = "not-applicable"
ERROR_BODY_CHECKS = (
    "ERR-ENVELOPE-SCHEMA",
    "ERR-STATUS-CODE-MATCH",
    "ERR-MESSAGE",
    "ERR-PARAM-NAMES-FIELD",
    "ERR-MODEL-REQUESTED",
)
"""What a document without an error answer leaves without a subject: the error body."""
DOCUMENTS = {
    "openai-3.1": (
        THIRD_PARTY / "openai" / "openapi.yaml",
        # no error response, no fallbacks field, no error event among the stream's events
        {*ERROR_BODY_CHECKS, "FALLBACK-ORDER", "FALLBACK-NOT-ON-REFUSAL", "SSE-NO-ERROR-EVENT"},
    ),
    "openai-3.0": (
        THIRD_PARTY / "openai" / "openapi-3.0.yaml",
        {
            *ERROR_BODY_CHECKS,
            "FALLBACK-ORDER",
            "FALLBACK-NOT-ON-REFUSAL",
            "STREAM-NOT-BUFFERED",
            "SSE-NO-ERROR-EVENT",
        },
    ),
    "azure": (
        THIRD_PARTY / "azure" / "inference.json",
        {"FALLBACK-ORDER", "FALLBACK-NOT-ON-REFUSAL", "STREAM-NOT-BUFFERED", "SSE-EVENT-SCHEMA"},
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
    accepted = ",".join(sorted(musts(undeclared(DOCUMENTS[name][0]))))
    report_dir = tmp_path_factory.mktemp(name)
    code, result = embedded_run(DOCUMENTS[name][0], report_dir, "--exclude-checks", accepted)
    return name, code, result


def undeclared(document: Path) -> set[str]:
    """The checks whose subject `document` does not declare, as the run names them."""
    from conformance.checks.registry import catalogue
    from conformance.select import not_applicable
    from conformance.spec import load_spec

    return set(not_applicable(catalogue(), load_spec(document).operation))


def musts(check_ids: set[str]) -> set[str]:
    return {i for i in check_ids if REGISTRY[i].level is Level.MUST}


@pytest.fixture(scope="module")
def openai_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    """`conformance run --spec openai --budget smoke`, nothing excluded."""
    return embedded_run(Path("openai"), tmp_path_factory.mktemp("openai"))


def test_must_checks_the_document_does_not_declare_leave_the_run_incomplete(
    openai_run: tuple[int, dict[str, Any]],
) -> None:
    document, named = DOCUMENTS["openai-3.1"]
    code, result = openai_run
    failed = [c["check_id"] for c in result["checks"] if c["status"] == "failed"]
    assert (code, result["verdict"], failed) == (4, "INCOMPLETE", [])
    flag = "--exclude-checks " + ",".join(
        c["check_id"]
        for c in result["checks"]
        if c["check_id"] in musts(named) and c["unjudged_kind"] == NOT_APPLICABLE
    )
    assert flag in result["gate"]["headline"], result["gate"]["headline"]
    assert set(flag.split()[-1].split(",")) == musts(named)
    assert named <= undeclared(document)


def test_what_is_named_not_applicable_is_what_was_not_judged(
    openai_run: tuple[int, dict[str, Any]],
) -> None:
    """The coverage's not-applicable list, the checks' results and the verdict tell one story:
    no check is both judged and not applicable, and the verdict names exactly the MUST ones."""
    _, result = openai_run
    listed = set(result["coverage"]["not_applicable"])
    judged = {
        c["check_id"]
        for c in result["checks"]
        if c["cases_run"] or c["failures"] or c["status"] != "skipped"
    }
    assert listed and judged and not listed & judged, listed & judged
    assert {
        c["check_id"] for c in result["checks"] if c["unjudged_kind"] == NOT_APPLICABLE
    } == listed
    in_verdict = {
        check_id
        for group in result["gate"]["scope"]["unjudged"]
        if group["kind"] == NOT_APPLICABLE
        for check_id in group["checks"]
    }
    assert in_verdict == musts(listed)
    flag = re.search(r"--exclude-checks ([\w,-]+)", result["gate"]["headline"])
    assert flag and set(flag.group(1).split(",")) == musts(listed), result["gate"]["headline"]


def test_the_dry_run_foresees_what_the_run_names_not_applicable(
    openai_run: tuple[int, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--dry-run` names the checks the run names not applicable, counts none of them among
    the MUST checks a case would judge, and foresees the run's verdict and exit code."""
    code, result = openai_run
    assert cli.main(["run", "--spec", "openai", "--budget", "smoke", "--dry-run"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("\n{") : out.index("\n}\n") + 2])
    assert summary["not_applicable"] == result["coverage"]["not_applicable"]
    foreseen = summary["verdict_if_conforming"]
    assert (foreseen["verdict"], foreseen["exit_code"]) == (result["verdict"], code)
    assert foreseen["headline"] == result["gate"]["headline"]
    assert f"the run would end {result['gate']['headline']} (exit {code})" in out
    unjudged = summary.get("must_checks_unjudged", {"checks": []})["checks"]
    assert not set(unjudged) & set(summary["not_applicable"]), unjudged


def test_a_capped_dry_run_names_not_applicable_checks_apart() -> None:
    """Under a request cap too, a not-applicable check is named so, never among the MUST
    checks the cap leaves without a case, and the run foreseen is INCOMPLETE."""
    from conformance.config import run_config
    from conformance.run import dry_run_summary, make_plan

    config = run_config({"spec": "openai", "budget": "smoke", "max_requests": 20})
    summary = dry_run_summary(config)
    moot = set(summary["not_applicable"])
    assert musts(undeclared(THIRD_PARTY / "openai" / "openapi.yaml")) <= moot
    dropped = make_plan(config).coverage["cut"]["must_checks_dropped"]
    unjudged = summary.get("must_checks_unjudged", {"checks": []})["checks"]
    assert not moot & {*dropped, *unjudged}, moot & {*dropped, *unjudged}
    assert summary["verdict_if_conforming"]["exit_code"] == 4


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
    expected = DOCUMENTS[name][1] - musts(DOCUMENTS[name][1])  # the MUST ones are excluded
    assert expected, "each document leaves a SHOULD check without a subject too"
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
