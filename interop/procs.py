"""Child processes of an interop run.

Each child gets its own process group and a log file; waits are bounded; a child is stopped by
its PID (its group id), never by name, and stopping is safe to call twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


class StartError(RuntimeError):
    """A child did not come up (exited, or not ready in time); the message names its log."""


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def exited(self) -> int | None:
        return self.proc.poll()

    def fail(self, why: str) -> StartError:
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        return StartError(f"{self.name} {why}; log {self.log}:\n{tail}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(
    name: str,
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Child:
    """Start `argv` in a new session (so the whole group can be stopped), output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    return Child(name, proc, log)


def first_line(child: Child, timeout: float) -> str:
    """The first complete line the child wrote to its log, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = child.log.read_bytes() if child.log.exists() else b""
        if b"\n" in data:
            return data.split(b"\n", 1)[0].decode(errors="replace").strip()
        if child.exited() is not None:
            raise child.fail(f"exited with {child.exited()} before printing its address")
        time.sleep(0.1)
    raise child.fail(f"printed no line within {timeout:.0f}s")


def wait_http(child: Child, url: str, timeout: float) -> float:
    """Poll `GET url` until it answers 200; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if child.exited() is not None:
            raise child.fail(f"exited with {child.exited()} before it was healthy")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise child.fail(f"not healthy at {url} within {timeout:.0f}s")


def stop(child: Child, grace: float = 10.0) -> int | None:
    """SIGTERM the child's process group, SIGKILL after `grace` seconds; returns its exit code."""
    if child.proc.poll() is None:
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            child.proc.wait(timeout=5.0)
    # Grandchildren left in the group (a worker the child did not reap) go too.
    _signal_group(child.pid, signal.SIGKILL)
    return child.proc.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
