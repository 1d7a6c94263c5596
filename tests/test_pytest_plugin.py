"""The pytest plugin: one item per check, outcomes that follow the run, with and without xdist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.checks.registry import catalogue
from conformance.spec import Spec

RUN_TIMEOUT_S = 240


def run_pytest(cwd: Path, *args: str, autoload: bool = False) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess; without `autoload` only this plugin and xdist are loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    plugins = [] if autoload else ["-p", "conformance.pytest_plugin", "-p", "xdist.plugin"]
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plugins, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def outcomes(junit: Path) -> dict[str, str]:
    """`test_conformance[ID]` outcomes read from pytest's own --junitxml."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        if not name.startswith("test_conformance["):
            continue
        check_id = name[len("test_conformance[") : -1]
        tags = {child.tag: child for child in case}
        if "failure" in tags or "error" in tags:
            found[check_id] = "failed"
        elif "skipped" in tags:
            kind = tags["skipped"].get("type", "")
            found[check_id] = "xfailed" if "xfail" in kind else "skipped"
        else:
            found[check_id] = "passed"
    return found


def expected_outcome(check: dict[str, str]) -> str:
    if check["status"] == "skipped":
        return "skipped"
    if check["status"] == "failed" and check["level"] != "MUST":
        return "xfailed"
    return "failed" if check["status"] in ("failed", "error") else "passed"


@pytest.fixture(scope="module")
def faulty_gateway(spec: Spec) -> Iterator[str]:
    from conformance.targets.server import running_gateway

    with running_gateway(spec, fault="n-capped-at-four") as url:
        yield url


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_one_item_per_check_following_the_run(
    faulty_gateway: str, tmp_path: Path, workers: list[str]
) -> None:
    junit, reports = tmp_path / "junit.xml", tmp_path / "reports"
    done = run_pytest(
        tmp_path,
        "--gateway-url",
        faulty_gateway,
        "--gateway-max-examples",
        "1",
        "--gateway-report-dir",
        str(reports),
        f"--junitxml={junit}",
        "-rA",
        *workers,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    found = outcomes(junit)
    assert sorted(found) == sorted(c.id for c in catalogue())
    assert found["IMG-COUNT"] == "failed"
    assert "IMG-COUNT [MUST]" in done.stdout and "curl " in done.stdout
    results = json.loads((reports / "results.json").read_text("utf-8"))
    assert {c["check_id"]: expected_outcome(c) for c in results["checks"]} == found
    assert "gateway conformance" in done.stdout and "NOT CONFORMANT" in done.stdout


def test_unreachable_gateway_fails_every_item_with_the_reason(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_pytest(tmp_path, "--gateway-url", f"http://127.0.0.1:{port}", "-x")
    assert done.returncode == 1
    assert "the conformance run did not complete" in done.stdout
    assert "TargetUnreachable" in done.stdout


def test_without_gateway_url_the_installed_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n", "utf-8")
    done = run_pytest(tmp_path, "--co", autoload=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_plain" in done.stdout and "test_conformance" not in done.stdout


def test_a_second_gateway_fault_is_refused_as_the_cli_refuses_it(tmp_path: Path) -> None:
    twice = run_pytest(
        tmp_path, "--gateway-fault", "one-based-index", "--gateway-fault", "status-201"
    )
    assert twice.returncode == pytest.ExitCode.USAGE_ERROR, twice.stdout + twice.stderr
    assert "--gateway-fault given twice (one-based-index, status-201)" in twice.stderr
    assert "one fault per run" in twice.stderr
    same = run_pytest(tmp_path, "--gateway-fault", "status-201", "--gateway-fault", "status-201")
    assert same.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, same.stdout + same.stderr
