"""The `conformance` command against gateways built to exhaust, crash, leak or mislead it:
memory and report size stay bounded, every report is written, the exit code tells the truth,
nothing a gateway sends reaches the terminal raw, and no form of a secret reaches any output.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hostile import behaviours as hb
from hostile import serving
from hostile.server import Behaviour

TIMEOUT_S = 120
API_KEY = "sk-live-7Q9xZ2mK4pL8vN3bR6tYw1"
HEADER_SECRET = "vk-Hd5Jq8Wn2Zr7Tc4Yb9"
PASSWORD = "pw-S3cretPassw0rd"
MiB = 1024 * 1024
# Runs the CLI in a child that reports its own peak RSS (KiB) into the file named by RSS_FILE.
WRAPPER = (
    "import os, resource, sys\n"
    "from conformance.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    with open(os.environ['RSS_FILE'], 'w') as f:\n"
    "        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.exit(code)\n"
)


class Done:
    def __init__(self, proc: subprocess.CompletedProcess[str], rss_kib: int, wall_s: float):
        self.code, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.rss_mb = rss_kib / 1024
        self.wall_s = wall_s


def cli(tmp: Path, *args: str, report_dir: Path | None = None) -> Done:
    rss = tmp / "rss.txt"
    report = report_dir or tmp / "reports"
    command = [sys.executable, "-c", WRAPPER, "run", "--report-dir", str(report), *args]
    started = time.monotonic()
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "RSS_FILE": str(rss), "PYTHONUNBUFFERED": "1"},
    )
    wall = time.monotonic() - started
    return Done(proc, int(rss.read_text() or 0) if rss.exists() else 0, wall)


def reports(report_dir: Path) -> dict[str, str]:
    names = ("report.html", "results.json", "junit.xml")
    missing = [n for n in names if not (report_dir / n).is_file()]
    assert not missing, f"reports not written: {missing}"
    return {n: (report_dir / n).read_text("utf-8") for n in names}


# -- bounds ---------------------------------------------------------------------------------

BOMBS: dict[str, Behaviour] = {
    "terminal-escapes": hb.terminal_escapes,  # first: the terminal shows its failures
    "stacked-gzip": hb.stacked_gzip_bomb,
    "triple-gzip": hb.triple_gzip,
    "pixel-bomb": hb.pixel_bomb,
    "wide-json": hb.wide_json,
    "deep-json": hb.deep_json,
    "deep-json-parsable": hb.deep_json_parsable,
    "huge-created": hb.huge_created,
    "huge-float": hb.huge_float,
    "lone-surrogate": hb.lone_surrogate,
    "fat-sse": hb.fat_sse,
    "fat-headers": hb.fat_headers,
}


@pytest.fixture(scope="module")
def bomb_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Done, dict[str, str], int]:
    tmp = tmp_path_factory.mktemp("bombs")
    hb.stacked_gzip_body()
    rounds = 2
    with serving(hb.rotating(*BOMBS.values())) as server:
        done = cli(
            tmp,
            "--base-url",
            server.url,
            "--max-requests",
            str(rounds * len(BOMBS)),
            "--max-body-mb",
            "8",
            "--workers",
            "1",
            "--no-shrink",
        )
        hits = server.hits
    size = sum(p.stat().st_size for p in (tmp / "reports").iterdir())
    return done, reports(tmp / "reports"), size if hits else -1


def test_bombs_are_failures_within_memory_and_report_size(
    bomb_run: tuple[Done, dict[str, str], int],
) -> None:
    done, texts, size = bomb_run
    assert done.code == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    # 8 MiB body cap: the bombs inflate to GiBs, and 900 Mpx would be 2.7 GB decoded.
    assert 0 < done.rss_mb < 600, f"peak RSS {done.rss_mb:.0f} MB"
    assert 0 < size < 8 * MiB, f"reports take {size / MiB:.1f} MiB"
    results = json.loads(texts["results.json"])
    checks = {c["check_id"]: c for c in results["checks"]}
    crashed = {i: c["failures"][0]["message"] for i, c in checks.items() if c["status"] == "error"}
    assert not crashed, crashed
    messages = " ".join(f["message"] for c in checks.values() for f in c["failures"])
    for words in ("stacked content-encodings", "inflated past", "nested deeper", "more values"):
        assert words in messages, f"no failure says {words!r}"


def test_reports_survive_lone_surrogates_and_keep_them_escaped(
    bomb_run: tuple[Done, dict[str, str], int],
) -> None:
    _, texts, _ = bomb_run
    assert "\\ud800" in texts["results.json"] or "\\\\ud800" in texts["results.json"]
    assert "\ud800" not in texts["report.html"]


def test_terminal_shows_gateway_text_visible_and_short(tmp_path: Path) -> None:
    # Only IMG-JSON-SCHEMA: the plan then holds only valid JSON cases (negatives go first
    # otherwise), so the escapes in `created` reach a failure message at once.
    with serving(hb.terminal_escapes) as server:
        done = cli(
            tmp_path, "--base-url", server.url, "--checks", "IMG-JSON-SCHEMA", "--max-requests", "4"
        )
    texts = reports(tmp_path / "reports")
    out = done.stdout + done.stderr
    assert "\x1b]" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b]0;PWNED" in out, "the escapes are not shown at all"
    assert max(len(line) for line in out.splitlines()) < 1000
    assert "~" * 500 not in out
    assert "~" * 1500 in texts["results.json"], "the report lost the full (capped) text"


def test_evidence_is_capped_per_failure(bomb_run: tuple[Done, dict[str, str], int]) -> None:
    _, texts, _ = bomb_run
    results = json.loads(texts["results.json"])
    for check in results["checks"]:
        for failure in check["failures"]:
            assert len(json.dumps(failure)) < 200_000, f"{check['check_id']} stores a huge failure"


# -- the verdict ----------------------------------------------------------------------------


def one_line_error(done: Done) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("url", ["htp://localhost:8080", "localhost:8080", "http://"])
def test_base_url_without_http_scheme_is_a_usage_error(tmp_path: Path, url: str) -> None:
    done = cli(tmp_path, "--base-url", url)
    assert done.code == 2 and "--base-url" in one_line_error(done)


@pytest.mark.parametrize("dry", [False, True], ids=["run", "dry-run"])
def test_unwritable_report_dir_fails_before_the_first_request(tmp_path: Path, dry: bool) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with serving(hb.fixed(200, b"{}"), route="") as server:
        args = ["--base-url", server.url, *(["--dry-run"] if dry else [])]
        done = cli(tmp_path, *args, report_dir=blocker / "reports")
        assert server.hits == 0
    assert done.code == 2 and "--report-dir" in one_line_error(done)


@contextlib.contextmanager
def plain_http_port() -> Iterator[str]:
    """A port that speaks plain HTTP and answers a TLS handshake with a 400, as web servers do."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(5)
            with contextlib.suppress(OSError):
                self.request.recv(4096)
                self.request.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_tls_to_a_plain_http_port_is_inconclusive_with_one_reason(tmp_path: Path) -> None:
    with plain_http_port() as url:
        done = cli(tmp_path, "--base-url", url, "--workers", "2")
    assert done.code == 2, done.stdout + done.stderr
    reasons = [line for line in done.stdout.splitlines() if "TLS handshake failed" in line]
    assert len(reasons) == 1 and "http://" in reasons[0], done.stdout
    assert json.loads(reports(tmp_path / "reports")["results.json"])["verdict"] == "INCONCLUSIVE"


@pytest.mark.parametrize("status", [401, 403])
def test_every_answer_refused_is_inconclusive(tmp_path: Path, status: int) -> None:
    body = b'{"error": {"message": "no", "type": "auth", "code": "x"}}'
    with serving(hb.fixed(status, body, reason="Refused")) as server:
        done = cli(tmp_path, "--base-url", server.url, "--max-requests", "4", "--workers", "2")
    assert done.code == 2, done.stdout + done.stderr
    assert f"every answer was {status}" in done.stdout
    assert json.loads(reports(tmp_path / "reports")["results.json"])["verdict"] == "INCONCLUSIVE"


def test_crash_on_huge_created_is_never_a_pass(tmp_path: Path) -> None:
    with serving(hb.huge_created) as server:
        done = cli(
            tmp_path,
            "--base-url",
            server.url,
            "--max-requests",
            "3",
            "--workers",
            "1",
            "--no-shrink",
        )
    assert done.code == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    results = json.loads(reports(tmp_path / "reports")["results.json"])
    assert results["verdict"] == "NOT CONFORMANT"


def test_wrong_route_stops_after_a_few_requests_with_the_likely_mistake(tmp_path: Path) -> None:
    with serving(hb.fixed(404, b'{"error": "not found"}', reason="Not Found"), route="") as server:
        done = cli(tmp_path, "--base-url", server.url + "/openai", "--workers", "2")
        hits = server.hits
    assert done.code == 2, done.stdout + done.stderr
    assert hits <= 2 + 3, f"{hits} requests sent to a route that answers 404"
    line = next(x for x in done.stdout.splitlines() if "answered 404" in x)
    assert server.url + "/openai/openai/openai/deployments/dall-e-3/images/generations" in line
    assert "ends in /openai" in line and "--deployment" in line
    results = json.loads(reports(tmp_path / "reports")["results.json"])
    assert results["verdict"] == "INCONCLUSIVE" and not results["incomplete"]


def test_unresponsive_gateway_stops_after_one_wave(tmp_path: Path) -> None:
    with serving(hb.silent) as server:
        done = cli(
            tmp_path,
            "--base-url",
            server.url,
            "--timeout",
            "2",
            "--read-timeout",
            "1",
            "--workers",
            "2",
        )
        hits = server.hits
    assert done.code == 1, done.stdout + done.stderr
    assert hits <= 2 * 2, f"{hits} requests sent to a gateway that never answers"
    assert "INCOMPLETE" in done.stdout and "unresponsive" in done.stdout
    results = json.loads(reports(tmp_path / "reports")["results.json"])
    responds = next(c for c in results["checks"] if c["check_id"] == "PROTO-RESPONDS")
    assert results["incomplete"] and responds["status"] == "failed"


# -- secrets --------------------------------------------------------------------------------


def forms_of_secrets() -> dict[str, str]:
    """Every form the gateway echoes, as the distinctive text an output could hold."""
    forms = {
        "plain": API_KEY,
        "json-escaped": "".join(f"\\u{ord(c):04x}" for c in API_KEY[:4]),
        "percent-upper": quote(API_KEY, safe="").replace("-", "%2D")[:20],
        "percent-lower": quote(API_KEY, safe="").replace("-", "%2d")[:20],
        "header": HEADER_SECRET,
        "password": PASSWORD,
    }
    for k in range(3):
        forms[f"base64-key-{k}"] = base64.b64encode(b"x" * k + API_KEY.encode()).decode()[4:24]
        forms[f"base64-vk-{k}"] = base64.b64encode(b"p" * k + HEADER_SECRET.encode()).decode()[4:20]
    basic = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    forms["basic-auth"] = basic[8:24]
    return forms


def test_no_form_of_a_secret_reaches_any_output(tmp_path: Path) -> None:
    with serving(hb.echo_key_forms) as server:
        url = server.url.replace("http://", f"http://user:{PASSWORD}@")
        done = cli(
            tmp_path,
            "--base-url",
            url,
            "--api-key",
            API_KEY,
            "--header",
            f"x-bf-vk: {HEADER_SECRET}",
            "--max-requests",
            "3",
            "--workers",
            "1",
            "--no-shrink",
        )
        seen = server.requests[0].headers
    assert seen.get("api-key") == API_KEY and seen.get("authorization", "").startswith("Basic")
    assert done.code == 1, done.stdout + done.stderr
    texts = {"stdout": done.stdout, "stderr": done.stderr, **reports(tmp_path / "reports")}
    leaks = [
        (name, form)
        for name, text in texts.items()
        for form, v in forms_of_secrets().items()
        if v in text
    ]
    assert not leaks, leaks
    assert texts["results.json"].count("REDACTED") >= 10, "the echoes never reached the report"


def test_console_makes_raw_control_characters_visible_and_cuts_long_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.console import Console
    from conformance.results import CheckResult, Failure, RunResult

    raw = hb.ESCAPES + "~" * 20_000
    check = CheckResult("PROTO-X", "MUST", "s", "p", "protocol", failed=1, cases_run=1)
    check.failures.append(Failure("PROTO-X", "MUST", "c", "t", message=raw))
    check.settle()
    result = RunResult(
        "0", "http://gw", "t", "s", "sha", "POST /x", 0, "2026-01-01", checks=[check]
    )
    Console(secrets=[]).summary(result, {})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b]0;PWNED\\x07" in out
    assert "~" * 400 not in out and "more chars" in out
