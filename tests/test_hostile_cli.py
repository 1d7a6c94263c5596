"""The `conformance` command against hostile gateways: it ends, it stays quiet about secrets,
its report runs nothing, and a signal leaves reports marked incomplete.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import CHROMIUM, SKIP_REASON, dump_dom
from hostile import behaviours as hb
from hostile import serving
from hostile.server import Behaviour

from conformance.evidence import EXCERPT_CHARS

CLI = [sys.executable, "-m", "conformance.cli", "run"]
TIMEOUT_S = 60
API_KEY = "sk-live-7Q9xZ2mK4pL8vN3bR6tYw1"
HEADER_SECRET = "vk-Hd5Jq8Wn2Zr7Tc4Yb9"
FRAGMENT = 8


def conformance(
    url: str, report_dir: Path, *args: str, timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    command = [*CLI, "--base-url", url, "--report-dir", str(report_dir), "--no-shrink", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def outputs(done: subprocess.CompletedProcess[str], report_dir: Path) -> dict[str, str]:
    texts = {"stdout": done.stdout, "stderr": done.stderr}
    for path in sorted(report_dir.rglob("*")):
        if path.is_file():
            texts[path.name] = path.read_text(errors="replace")
    return texts


def fragments(secret: str) -> set[str]:
    return {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}


def assert_no_secret(texts: dict[str, str]) -> None:
    """No output holds a secret, nor any FRAGMENT-character piece of one."""
    pieces = fragments(API_KEY) | fragments(HEADER_SECRET)
    for name, text in texts.items():
        leaked = sorted(p for p in pieces if p in text)
        assert not leaked, f"{name} leaks {leaked}"


BROKEN: dict[Behaviour, tuple[str, str]] = {
    hb.garbage: ("PROTO-BODY-PARSES", "do not parse"),
    hb.invalid_utf8: ("PROTO-BODY-PARSES", "do not parse"),
    hb.truncated_json: ("PROTO-BODY-PARSES", "do not parse"),
    hb.overlong_body: ("PROTO-BODY-PARSES", "16 bytes"),
    hb.reset_mid_body: ("PROTO-RESPONDS", "reset|protocol"),
    hb.html_502: ("PROTO-NO-5XX", "got 502"),
    hb.bad_gzip: ("PROTO-RESPONDS", "decoding"),
    hb.huge_body: ("PROTO-RESPONDS", "body-too-large"),
}


def test_broken_gateway_fails_clearly_without_a_traceback(tmp_path: Path) -> None:
    """Garbage, bad UTF-8, cut JSON, overlong body, reset, HTML 502, bad gzip, 1 GiB body."""
    rounds = 2
    with serving(hb.rotating(*BROKEN)) as server:
        done = conformance(
            server.url,
            tmp_path,
            "--max-requests",
            str(rounds * len(BROKEN)),
            "--max-body-mb",
            "2",
            "--workers",
            "1",
        )
    assert server.hits == rounds * len(BROKEN)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    checks = {c["check_id"]: c for c in results["checks"]}
    assert not [i for i, c in checks.items() if c["status"] == "error"]
    for check_id, words in BROKEN.values():
        assert check_id in done.stdout
        messages = [f["message"] for f in checks[check_id]["failures"]]
        assert any(re.search(words, m) for m in messages), f"{check_id}: none says {words!r}"


def test_silent_gateway_run_ends_at_its_deadline_and_names_the_timeout(tmp_path: Path) -> None:
    with serving(hb.silent) as server:
        started = time.monotonic()
        done = conformance(
            server.url,
            tmp_path,
            "--first-byte-timeout",
            "0.5",
            "--timeout",
            "2",
            "--max-duration",
            "2",
            "--workers",
            "2",
        )
    assert time.monotonic() - started < 30, "the run outlived its deadline"
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PROTO-RESPONDS" in done.stdout and "INCOMPLETE" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["incomplete"] is True
    responds = next(c for c in results["checks"] if c["check_id"] == "PROTO-RESPONDS")
    assert responds["status"] == "failed"
    assert "first-byte wait of 0.5s" in responds["failures"][0]["message"]


ECHOES = (
    hb.echo_secrets,
    hb.echo_key_at(500, EXCERPT_CHARS - 12),
    hb.echo_key_at(401, 300 - 12),
)


@pytest.fixture(scope="module")
def echo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """A run against a gateway that echoes markup and the credentials, also across cuts."""
    report_dir = tmp_path_factory.mktemp("echo")
    with serving(hb.rotating(*ECHOES)) as server:
        done = conformance(
            server.url,
            report_dir,
            "--api-key",
            API_KEY,
            "--header",
            f"x-bf-vk: {HEADER_SECRET}",
            "--max-requests",
            str(2 * len(ECHOES)),
            "--workers",
            "1",
        )
        echoed = [r for r in server.requests if r.headers.get("api-key") == API_KEY]
    assert echoed, "the gateway never saw the key, so it could not echo it"
    assert done.returncode == 1, done.stdout + done.stderr
    return outputs(done, report_dir), report_dir


def test_echoed_secrets_reach_no_output(echo_run: tuple[dict[str, str], Path]) -> None:
    texts, _ = echo_run
    assert {"stdout", "stderr", "report.html", "results.json", "junit.xml"} <= set(texts)
    assert_no_secret(texts)
    results = json.loads(texts["results.json"])
    assert results["environment_problems"], "the 401 echo never reached the report"
    assert "REDACTED" in results["environment_problems"][0]["message"]
    assert texts["results.json"].count("REDACTED") > 3, "the echoes never reached the report"


def title(dom: str) -> str:
    found = re.search(r"<title>(.*?)</title>", dom, re.S)
    return found.group(1) if found else ""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_markup_echoed_by_the_gateway_never_runs_in_the_report(
    tmp_path: Path, echo_run: tuple[dict[str, str], Path]
) -> None:
    control = tmp_path / "control.html"
    control.write_text(f"<html><head><title>control</title></head><body>{hb.SCRIPT}</body></html>")
    control_dom = dump_dom(control, tmp_path / "profile-control")
    assert title(control_dom) == "PWNED" and "<pwned-marker" in control_dom, (
        "the browser harness does not run scripts, so it could not see one run"
    )

    texts, reports = echo_run
    html = texts["report.html"]
    assert "<script>document.title" not in html and 'onerror="document' not in html
    dom = dump_dom(reports / "report.html", tmp_path / "profile")
    assert "PWNED" not in title(dom)
    assert "<pwned-marker" not in dom
    assert "document.title=" in dom, "the echoed markup is not shown in the report at all"


def wait_for_hits(server: object, count: int, limit_s: float = 90) -> None:
    deadline = time.monotonic() + limit_s
    while getattr(server, "hits") < count:  # noqa: B009 - HostileServer.hits is a property
        assert time.monotonic() < deadline, "the run never reached the gateway"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "delay_s", "hits"),
    [(signal.SIGTERM, 1.0, 3), (signal.SIGINT, 1.0, 3), (signal.SIGTERM, 45.0, 2)],
    ids=["SIGTERM", "SIGINT", "SIGTERM-while-answers-take-45s"],
)
def test_signal_mid_run_writes_incomplete_reports_and_exits_non_zero(
    tmp_path: Path, signum: int, delay_s: float, hits: int
) -> None:
    with serving(hb.slow(delay_s)) as server:
        # The smoke plan: built in a blink, so the run reaches the gateway sooner.
        command = [*CLI, "--base-url", server.url, "--report-dir", str(tmp_path), "--workers", "2"]
        command += ["--budget", "smoke"]
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_for_hits(server, hits)
            proc.send_signal(signum)
            sent = time.monotonic()
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            waited = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert waited < 8, f"exit took {waited:.1f}s after the signal"
    # Failures found win (exit 1); a run stopped before any answer is INCOMPLETE (exit 4).
    assert proc.returncode == (4 if delay_s > 10 else 1), stdout + stderr
    assert "Traceback" not in stderr
    assert "INCOMPLETE" in stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["incomplete"] is True and results["stats"]["requests"] >= 1
    assert (tmp_path / "report.html").is_file() and (tmp_path / "junit.xml").is_file()


def test_run_that_only_meets_429_is_an_environment_problem(tmp_path: Path) -> None:
    with serving(hb.rate_limited("0")) as server:
        done = conformance(server.url, tmp_path, "--max-requests", "6", "--workers", "1")
    assert server.hits == 6
    assert done.returncode == 2, done.stdout + done.stderr
    assert "429: rate limited" in done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["verdict"] != "NOT CONFORMANT" and not results["incomplete"]
    assert {p["status"] for p in results["environment_problems"]} == {429}
