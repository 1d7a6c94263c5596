"""Plumbing shared by the benchmarks: servers in child processes, child wall time and RSS."""

from __future__ import annotations

import os
import subprocess
import sys
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


def child_rss(cmd: list[str], timeout_s: float = 600) -> tuple[float, float]:
    """Run `cmd` (output discarded); return (wall seconds, the child's own peak RSS in MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    deadline = time.monotonic() + timeout_s
    while True:
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = 0
            return time.perf_counter() - started, usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.02)
