"""The command-line contract: exit codes 0/1/2/3, outputs, flags."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xmlschema

from conformance.report.jsonreport import schema_errors

CLI = [sys.executable, "-m", "conformance.cli"]
RUN_TIMEOUT = 120


def conformance(*args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """`conformance serve` in another process; the fault comes from the test's param."""
    port = free_port()
    fault = getattr(request, "param", None)
    args = ["serve", "--port", str(port)] + (["--fault", fault] if fault else [])
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("conformance serve did not start within 60s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_embedded_run_exits_0_and_writes_three_reports(tmp_path: Path) -> None:
    """The default run, as a user starts it (the runs against a served gateway below use the
    smoke plan: what they add is the other process)."""
    done = conformance("run", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in tmp_path.iterdir()} >= {"report.html", "results.json", "junit.xml"}
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["stats"]["requests"] > 0 and results["stats"]["images"] > 0
    assert all({"check_id", "level", "status"} <= set(c) for c in results["checks"])
    assert "CONFORMANT" in done.stdout
    assert schema_errors(results) == []
    xmlschema.XMLSchema(Path(__file__).parent / "data" / "junit.xsd").validate(
        str(tmp_path / "junit.xml")
    )


def test_run_against_served_gateway_in_another_process_exits_0(served: str, tmp_path: Path) -> None:
    done = conformance(
        "run", "--base-url", served, "--budget", "smoke", "--report-dir", str(tmp_path), "--quiet"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().startswith("CONFORMANT")
    assert len(done.stdout.strip().splitlines()) == 1  # --quiet: the verdict line only
    assert str(tmp_path / "report.html") in done.stdout


@pytest.mark.parametrize("served", ["created-in-milliseconds"], indirect=True)
def test_run_against_a_fault_exits_1_and_names_the_check(served: str, tmp_path: Path) -> None:
    done = conformance(
        "run", "--base-url", served, "--budget", "smoke", "--report-dir", str(tmp_path)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "IMG-CREATED-SECONDS" in done.stdout


def test_closed_port_exits_3(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = conformance("run", "--base-url", url, "--report-dir", str(tmp_path), timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot reach" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_flag_exits_2() -> None:
    done = conformance("run", "--no-such-flag", timeout=30)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("content", [None, "openapi: [unclosed", "just: a mapping\n"])
def test_unreadable_or_invalid_spec_exits_2_with_one_line(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_text(content)
    done = conformance("run", "--spec", str(path), "--report-dir", str(tmp_path), timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_checks_lists_the_catalogue() -> None:
    done = conformance("checks", "--json", timeout=30)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    ids = {r["id"] for r in rows}
    assert {"IMG-JSON-SCHEMA", "SSE-SEQUENCE", "ERR-NEGATIVE-4XX"} <= ids
    for row in rows:
        assert row["level"] in ("MUST", "SHOULD", "MAY")
        assert row["statement"] and row["rationale"] and row["pointer"].startswith("#/")


def test_api_key_is_sent_as_api_key_header_and_never_printed(served: str, tmp_path: Path) -> None:
    secret = "sk-test-SECRET-9f8e7d"
    done = subprocess.run(
        [
            *CLI,
            "run",
            "--base-url",
            served,
            "--report-dir",
            str(tmp_path),
            "--header",
            "x-bf-vk: vk-OTHER-SECRET-1234",
            "--max-examples",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**__import__("os").environ, "CONFORMANCE_API_KEY": secret},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for text in [done.stdout, done.stderr, *(p.read_text() for p in tmp_path.iterdir())]:
        assert secret not in text and "vk-OTHER-SECRET-1234" not in text


def test_main_freezes_the_heap_at_exit_once_however_often_it_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import atexit
    import gc

    from conformance import cli

    registered: list[object] = []

    def unregister(func: object) -> None:  # as atexit's: every registration of func goes
        registered[:] = [f for f in registered if f is not func]

    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", unregister)
    missing = str(tmp_path / "missing.json")
    for _ in range(2):
        assert cli.main(["diff", missing, missing]) == 2
    assert registered == [gc.freeze]
