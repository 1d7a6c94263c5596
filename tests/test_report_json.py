"""results.json: the published schema, a real run validated against it, reading it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from test_report_samples import sample_result

from conformance.config import RunConfig
from conformance.report import render_from_json, write_reports
from conformance.report.jsonreport import (
    ResultsError,
    load_results,
    results_document,
    results_schema,
    schema_errors,
)
from conformance.results import SCHEMA_VERSION
from conformance.run import run
from conformance.spec import Spec


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = results_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_a_real_run_validates_and_round_trips(spec: Spec, tmp_path: Path) -> None:
    result = run(RunConfig(spec=spec, max_examples=1, max_requests=40))
    document = results_document(result)
    assert document["schema_version"] == SCHEMA_VERSION
    assert schema_errors(document) == []
    paths = write_reports(result, tmp_path)
    assert load_results(paths["json"]) == result


def test_the_schema_rejects_what_it_must() -> None:
    document = results_document(sample_result())
    assert schema_errors(document) == []
    document["checks"][0]["status"] = "green"
    del document["stats"]["requests"]
    errors = schema_errors(document)
    assert any(e.startswith("checks/0/status") for e in errors)
    assert any(e.startswith("stats") for e in errors)


def test_load_rejects_other_documents(tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text("{not json", "utf-8")
    with pytest.raises(ResultsError, match="cannot read"):
        load_results(bad)
    document = results_document(sample_result())
    document["schema_version"] = "2.0"
    bad.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ResultsError):
        load_results(bad)


def test_render_from_json_rebuilds_every_report(tmp_path: Path) -> None:
    source = write_reports(sample_result(), tmp_path / "run")["json"]
    paths = render_from_json(source, tmp_path / "again")
    assert paths["html"].parent == tmp_path / "again"
    assert "NOT CONFORMANT" in paths["html"].read_text("utf-8")
    assert json.loads(paths["json"].read_text("utf-8")) == json.loads(source.read_text("utf-8"))
