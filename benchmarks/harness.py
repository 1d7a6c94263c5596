"""Plumbing shared by the benchmarks: servers in child processes, child wall time and RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STARTUP_S = 30.0


def env() -> dict[str, str]:
    """The environment of child processes: this checkout first on the import path."""
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


@contextmanager
def served(kind: str, *args: str) -> Iterator[str]:
    """Run `servers.py kind args` in a child process; yield its base URL; stop it by PID."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "servers.py"), kind, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                httpx.get(url + "/__bench/ready", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"benchmark server {kind} did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child(cmd: list[str], timeout_s: float = 600) -> tuple[float, str]:
    """Run `cmd`; return (wall seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env())
    return time.perf_counter() - started, done.stdout


PEAK_RSS_CHILD = (
    "import os, sys\n"
    "from harness import write_peak_rss\n"
    "from conformance.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    write_peak_rss(os.environ['PEAK_RSS_FILE'])\n"
    "sys.exit(code)\n"
)


def peak_rss_mb() -> float:
    """This process's own peak RSS in MB: VmHWM, which starts afresh at exec. (`ru_maxrss`
    does not: Linux carries the high-water mark of the process that forked over an exec, so
    a child of a large benchmark process would report the parent's size.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS cannot be measured here")


def write_peak_rss(path: str) -> None:
    Path(path).write_text(str(peak_rss_mb()))


def conformance_peak(args: list[str], timeout_s: float = 600) -> tuple[float, float, int, str]:
    """Run `conformance ARGS` in a child process; return (wall seconds, its own peak RSS in
    MB, exit code, stdout)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_CHILD, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**env(), "PEAK_RSS_FILE": str(peak_file)},
            cwd=HERE,
        )
        wall = time.perf_counter() - started
        return wall, float(peak_file.read_text()), done.returncode, done.stdout
