"""CI ergonomics: --wait-for, progress without a terminal, summary.md and the job summary,
copy-pasteable curl lines, the CLI's help, suggestions and errors, `serve --port 0`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conformance import cli
from conformance.checks.registry import Problem, get
from conformance.client import Client
from conformance.config import OPTIONS, Bounds, Target
from conformance.errors import TargetUnreachable
from conformance.evidence import failure_record
from conformance.model import Case
from conformance.progress import ProgressLines
from conformance.redaction import Redactor
from conformance.report.summary import append_step_summary
from conformance.spec import Spec
from conformance.wait import wait_for_gateway

CLI = [sys.executable, "-m", "conformance.cli"]
API_KEY, VK = "sk-live-0123456789abcdef", "vk-9876543210zyxw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- --wait-for ----------------------------------------------------------------------------


def test_wait_for_returns_once_a_late_gateway_answers(spec: Spec) -> None:
    from conformance.targets.server import running_gateway

    port = free_port()
    release = threading.Event()

    def start_late() -> None:
        time.sleep(1.0)
        with running_gateway(spec, port=port):  # it may answer before this thread resumes
            release.wait(30)

    thread = threading.Thread(target=start_late, daemon=True)
    thread.start()
    try:
        waited = wait_for_gateway(
            f"http://127.0.0.1:{port}/openai/openai/deployments/d/images/generations",
            20,
            connect_timeout=1,
        )
        assert 0.9 < waited < 20  # nothing listened during the first second
    finally:
        release.set()
        thread.join(15)


def test_wait_for_gives_up_with_the_last_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    started = time.monotonic()
    with pytest.raises(TargetUnreachable) as caught:
        wait_for_gateway(url, 1.2, connect_timeout=0.5)
    assert time.monotonic() - started < 5
    assert "did not answer within 1.2s" in str(caught.value)
    assert "last error: ConnectError" in str(caught.value)


def test_run_with_wait_for_exits_3_when_nothing_answers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *CLI,
            "run",
            "--base-url",
            f"http://127.0.0.1:{free_port()}",
            "--wait-for",
            "1",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "did not answer within 1s (--wait-for); last error:" in done.stderr


def test_wait_for_is_one_row_of_the_options_table() -> None:
    assert [o.flag for o in OPTIONS].count("--wait-for") == 1


# -- progress ------------------------------------------------------------------------------


def test_progress_lines_every_tenth_of_the_plan_and_every_few_seconds() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = ProgressLines(lines.append, planned=100, clock=lambda: now[0])
    for sent in range(1, 10):
        progress.tick(sent, 0, 0)
    assert lines == []  # under 10% and under 5 s: quiet
    now[0] = 2.0
    progress.tick(10, 1, 0)
    assert lines == ["progress: 10/100 requests (10%), 1 failures, ETA 18s, 2s elapsed"]
    progress.tick(11, 1, 0)
    assert len(lines) == 1
    now[0] = 8.0  # 6 s later, still under 20%: a line because of the time
    progress.tick(12, 2, 3)
    assert lines[-1] == (
        "progress: 12/100 requests (12%), 2 failures, 3 environment answers, ETA 59s, 8s elapsed"
    )
    progress.tick(100, 2, 3)
    assert lines[-1].startswith("progress: 100/100 requests (100%)")


def test_progress_lines_without_a_plan_size_are_time_based() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = ProgressLines(lines.append, planned=None, clock=lambda: now[0])
    progress.tick(5, 0, 0)
    now[0] = 5.5
    progress.tick(6, 0, 0)
    assert lines == ["progress: 6/? requests, 0 failures, 6s elapsed"]


# -- summary.md and GITHUB_STEP_SUMMARY ----------------------------------------------------


def test_step_summary_is_appended_only_when_set(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("## Gateway conformance: CONFORMANT\n")
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    assert append_step_summary(summary, {}) is None
    assert append_step_summary(summary, {"GITHUB_STEP_SUMMARY": str(step)}) == step
    assert step.read_text() == "earlier step\n## Gateway conformance: CONFORMANT\n\n"


# -- curl lines ----------------------------------------------------------------------------


def test_curl_line_reads_secrets_from_env_and_runs_as_pasted(
    spec: Spec, gateway_url: str, tmp_path: Path
) -> None:
    target = Target(
        base_url=gateway_url, api_key=API_KEY, headers=(("x-bf-vk", VK), ("x-trace", "t-1"))
    )
    op = spec.operation
    case = Case(
        body={"model": "dall-e-3", "prompt": "a lighthouse", "response_format": "b64_json"},
        id="c1",
        kind="positive",
        title="t",
        expect="success",
    )
    with Client(target, op, Bounds()) as client:
        exchange = client.send(case)
    record = failure_record(get("IMG-COUNT"), exchange, [Problem("m")], Redactor(target.secrets()))
    assert '"api-key: $CONFORMANCE_API_KEY"' in record.curl
    assert '"x-bf-vk: $CONFORMANCE_HEADER_X_BF_VK"' in record.curl
    assert "'x-trace: t-1'" in record.curl  # not a secret: written as it was sent
    stored = json.dumps(record.__dict__, default=str)
    assert API_KEY not in stored and VK not in stored and VK[:8] not in stored
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    env = {**os.environ, "CONFORMANCE_API_KEY": API_KEY, "CONFORMANCE_HEADER_X_BF_VK": VK}
    done = subprocess.run(
        ["bash", "-c", record.curl], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["data"]) == 1


# -- CLI polish ----------------------------------------------------------------------------


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in OPTIONS:
        assert option.flag in text
        if option.default is not None and not option.action:
            assert f"(default: {option.default})" in text, option.flag
    assert "--report-dir REPORT_DIR where the reports go (default: reports/latest)" in text


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["rn"], "did you mean run?"),
        (["run", "--bse-url", "http://x"], "did you mean --base-url?"),
        (["serve", "--prot", "1"], "did you mean --port?"),
    ],
)
def test_mistyped_words_get_the_closest_suggestion(
    argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert hint in capsys.readouterr().err


def test_missing_spec_file_says_no_such_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    assert cli.main(["checks", "--spec", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"conformance: error: spec {missing}: no such file"


def test_serve_port_0_names_the_bound_address_first(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--fault", "one-based-index"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rstrip("\n")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        assert int(url.rsplit(":", 1)[1]) > 0
        answer = httpx.post(
            url + "/openai/openai/deployments/d/images/generations?api-version=2024-02-01",
            json={"model": "dall-e-3", "prompt": "a lighthouse"},
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["data"][0]["index"] == 1
    finally:
        proc.terminate()
        proc.wait(15)
