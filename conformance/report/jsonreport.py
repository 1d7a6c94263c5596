"""`results.json`: the run as a JSON document, its published schema, and reading it back."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from conformance.errors import ResultsError
from conformance.gate import decide
from conformance.redaction import Redactor
from conformance.report.atomic import write_atomic
from conformance.results import SCHEMA_VERSION, RunResult

SCHEMA_RESOURCE = "results.schema.json"


@cache
def results_schema() -> dict[str, Any]:
    """The published JSON Schema (Draft 2020-12) of `results.json`."""
    text = resources.files("conformance").joinpath("schemas", SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def results_document(result: RunResult) -> dict[str, Any]:
    """The `results.json` document of `result`: what it measured and the gate's decision."""
    document = result.to_dict()
    gate = decide(result)
    document["verdict"] = gate.verdict.value
    document["gate"] = gate.to_dict()
    document["schema_version"] = SCHEMA_VERSION
    return document


def schema_errors(document: Any) -> list[str]:
    """Every way `document` departs from the published schema (empty when it conforms)."""
    validator = Draft202012Validator(results_schema())
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def write_json(result: RunResult, path: Path, redactor: Redactor | None = None) -> Path:
    text = json.dumps(results_document(result), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, (redactor or Redactor([])).output(text))


def load_results(path: Path | str) -> RunResult:
    """Read a `results.json` written by this suite (same major schema version)."""
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read results: {exc}") from exc
    errors = schema_errors(document)
    if errors:
        raise ResultsError(f"{path}: not a results document: " + "; ".join(errors[:5]))
    major = str(document["schema_version"]).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise ResultsError(
            f"{path}: schema_version {document['schema_version']} is not readable "
            f"by this suite ({SCHEMA_VERSION})"
        )
    try:
        return RunResult.from_dict(document)
    except TypeError as exc:
        raise ResultsError(f"{path}: unexpected fields: {exc}") from exc
