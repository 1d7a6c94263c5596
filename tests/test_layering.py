"""The import graph follows the data path: what each layer may load, measured in a fresh process."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
CHECKS_MAY_IMPORT = (
    "conformance.checks",
    "conformance.model",
    "conformance.spec",
    "conformance.errors",
    "conformance.secret_forms",  # a pure function the redactor shares
)


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def conformance_imports(path: Path) -> set[str]:
    """Every `conformance...` module a source file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "conformance":
            found.update(f"conformance.{a.name}" for a in node.names)  # from conformance import x
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("conformance"):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("conformance"))
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "checks").glob("*.py")), ids=lambda p: p.name)
def test_checks_depend_on_model_and_spec_only(path: Path) -> None:
    wrong = {m for m in conformance_imports(path) if not m.startswith(CHECKS_MAY_IMPORT)}
    assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_the_catalogue_loads_no_transport_generator_or_runner() -> None:
    modules = loaded_after("from conformance.checks.registry import catalogue; catalogue()")
    heavy = {"hypothesis", "schemathesis", "httpx", "conformance.client", "conformance.run"}
    assert not heavy & modules, sorted(heavy & modules)


def test_the_cli_parser_and_the_reference_gateway_load_no_generator() -> None:
    for statement in (
        "import conformance.cli; conformance.cli._parser()",
        "import conformance.targets.server, conformance.targets.faults",
    ):
        modules = loaded_after(statement)
        assert not {"hypothesis", "schemathesis"} & modules, statement


def test_the_model_loads_no_other_layer() -> None:
    modules = {m for m in loaded_after("import conformance.model") if m.startswith("conformance")}
    allowed = (
        "conformance.model",
        "conformance.json_text",
        "conformance.spec",
        "conformance.errors",
    )
    assert all(m == "conformance" or m.startswith(allowed) for m in modules), sorted(modules)


def test_a_run_without_a_fault_does_not_load_the_fault_catalogue() -> None:
    modules = loaded_after(
        "from conformance.config import RunConfig; from conformance.spec import load_spec; "
        "from conformance.run.plan import watches_upstream; "
        "assert watches_upstream(RunConfig(spec=load_spec()))"
    )
    assert not {"conformance.targets.faults", "starlette"} & modules
