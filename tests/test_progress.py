"""Progress of a long run: every phase announced in a CI log, lines while nothing answers, and
a time left that a slow gateway does not fool."""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console as RichConsole

from conformance import cli
from conformance.progress import BarProgress, LineProgress, ProgressLines


def test_each_phase_says_when_it_starts_and_how_long_it_took() -> None:
    now = [0.0]
    lines: list[str] = []
    with LineProgress(lines.append, None, clock=lambda: now[0], every_s=60) as progress:
        progress.phase("plan", "budget smoke")
        now[0] = 1.5
        progress.expect(10)
        progress.phase("send")
        now[0] = 2.5
        progress(10, 0, 0)
        now[0] = 4.0
        progress.phase("judge")
        now[0] = 4.25
        progress.phase("report", "reports/latest")
        now[0] = 4.5
    assert lines == [
        "[1/4] plan: budget smoke",
        "[1/4] plan: done in 1.5s",
        "[2/4] send",
        "progress: 10/10 requests (100%), 0 failures, ETA 0s, 1s elapsed",
        "[2/4] send: done in 2.5s",
        "[3/4] judge",
        "[3/4] judge: done in 0.2s",
        "[4/4] report: reports/latest",
        "[4/4] report: done in 0.2s",
    ]


def test_a_slow_gateway_gets_lines_while_nothing_answers() -> None:
    said = threading.Event()
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if line.startswith("progress:"):
            said.set()

    now = [0.0]
    with LineProgress(say, None, clock=lambda: now[0], every_s=0.01) as progress:
        progress.expect(100)
        progress.phase("send")
        now[0] = 6.0  # nothing judged yet, and more than PROGRESS_EVERY_S passed
        assert said.wait(5), "no heartbeat line"
    beat = next(line for line in lines if line.startswith("progress:"))
    assert (
        beat == "progress: 0/100 requests (0%), 0 failures, ETA unknown (no answer yet), 6s elapsed"
    )


def test_the_time_left_counts_only_answered_requests() -> None:
    """16 workers against a gateway that takes 2 s: after two waves, 48 requests are out but
    only 32 answered; the time left follows the 8 answers a second."""
    now = [4.0]
    lines: list[str] = []
    progress = ProgressLines(lines.append, planned=300, clock=lambda: now[0], in_flight=16)
    progress.started = 0.0
    progress.judged = 31
    progress.tick(48, 0, 0)
    assert lines[-1].endswith("ETA 32s, 4s elapsed")  # 4 s / 32 answered * 252 to go
    naive = ProgressLines(lines.append, planned=300, clock=lambda: now[0])
    naive.started = 0.0
    naive.tick(48, 0, 0)
    assert lines[-1].endswith("ETA 21s, 4s elapsed")  # what counting the sent would claim


def test_the_bar_names_the_phase() -> None:
    out = RichConsole(file=io.StringIO(), force_terminal=True, width=120)
    with BarProgress(out, None) as progress:
        progress.phase("plan")
        progress.expect(20)
        progress.phase("send", "20 requests planned")
        progress(5, 1, 0)
        task = progress.bar.tasks[0]
        assert task.description == "[2/4] send: 20 requests planned"
        assert (task.total, task.completed, task.fields["failures"]) == (20, 5, 1)


def test_a_run_in_a_ci_log_shows_every_phase(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--budget", "smoke", "--checks", "ERR-EMPTY-PROMPT"]
    assert cli.main([*argv, "--report-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for number, name in enumerate(("plan", "send", "judge", "report"), 1):
        assert f"[{number}/4] {name}" in out, name
        assert f"[{number}/4] {name}: done in " in out, name
    assert "progress: " in out
