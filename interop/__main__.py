"""`python -m interop [GATEWAY ...]`: install, start, run the suite, stop; one report per gateway.

For each gateway: install under `.interop/<gateway>/` (skipped when the pins did not change),
start the fake upstream and the gateway on 127.0.0.1, wait (bounded) until both answer, run
`conformance run` against the gateway with `--report-dir reports/interop/<gateway>`, stop both
by PID (also on failure or Ctrl-C) and write `reports/interop/summary.json`.

Exit code: 0 when every gateway ran end to end and wrote its reports (their verdicts are
findings, printed and summarised, not a failure of this command; `--gate` makes them one),
1 when one could not be installed, started or run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.redaction import Redactor
from interop import procs
from interop.gateways import DEPLOYMENTS, GATEWAYS, Gateway, Upstream

ROOT = Path(__file__).resolve().parent.parent
SUITE = [sys.executable, "-m", "conformance.cli"]
URL = re.compile(r"https?://[^\s/]+")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args = _parser().parse_args(argv[:cut])
    args.extra = argv[cut + 1 :]
    args.root, args.reports = args.root.resolve(), args.reports.resolve()
    names = args.gateways or list(GATEWAYS)
    unknown = [n for n in names if n not in GATEWAYS]
    if unknown:
        print(f"interop: unknown gateway {unknown[0]!r}; known: {', '.join(GATEWAYS)}")
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    features = _suite_features()
    entries: dict[str, dict[str, Any]] = {}
    try:
        for name in names:
            entries[name] = run_gateway(GATEWAYS[name], args, features)
            entries[name]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            print(_line(name, entries[name]), flush=True)
    except KeyboardInterrupt:
        print("interop: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    finally:
        _write_summary(args.reports / "summary.json", entries, features)
    ran = all(e["status"] == "ran" for e in entries.values())
    gated = args.gate and any(e.get("exit_code") != 0 for e in entries.values())
    return 0 if ran and not gated else 1


def run_gateway(gateway: Gateway, args: argparse.Namespace, features: set[str]) -> dict[str, Any]:
    """Install, start and run one gateway; every child is stopped before this returns."""
    entry: dict[str, Any] = {"status": "failed"}
    out = args.reports / gateway.name
    shutil.rmtree(out, ignore_errors=True)  # no stale results.json may pass for this run's
    out.mkdir(parents=True)
    run_dir = args.root / gateway.name / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    children: list[procs.Child] = []
    secrets: tuple[str, ...] = ()
    try:
        entry["install_s"] = _install(gateway, args, out / "install.log")
        if gateway.needs_profile and "--profile" not in features:
            entry["status"] = "not-run"
            entry["reason"] = "the suite has no --profile: Portkey serves /v1/images/generations"
            return entry
        key = "up-" + os.urandom(12).hex()
        upstream_child = procs.start(
            "upstream",
            [*SUITE, "upstream", "--host", "127.0.0.1", "--port", "0", "--key", key],
            log=out / "upstream.log",
            cwd=ROOT,
        )
        children.append(upstream_child)
        match = URL.search(procs.first_line(upstream_child, timeout=30.0))
        if not match:
            raise upstream_child.fail("printed no address on its first line")
        upstream = Upstream(url=match.group(0), key=key)
        procs.wait_http(upstream_child, upstream.url + "/_upstream/health", timeout=30.0)
        port = procs.free_port()
        launch = gateway.launch(args.root, port, upstream, run_dir)
        secrets = launch.secrets
        started = time.monotonic()
        child = procs.start(
            gateway.name, launch.argv, log=out / "gateway.log", env=launch.env, cwd=launch.cwd
        )
        children.append(child)
        procs.wait_http(child, launch.health_url, launch.health_timeout)
        entry["start_s"] = round(time.monotonic() - started, 1)
        argv = [
            *SUITE,
            "run",
            *launch.suite_args,
            *_suite_options(gateway, upstream, features),
            "--report-dir",
            str(out),
            "--max-duration",
            str(args.max_duration),
            *args.extra,
        ]
        started = time.monotonic()
        with (out / "conformance.log").open("wb") as log:
            code = subprocess.run(
                argv,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=args.max_duration + 120,
            ).returncode
        entry["run_s"] = round(time.monotonic() - started, 1)
        entry["exit_code"] = code
        entry.update(_verdict(out / "results.json"))
        entry["status"] = "ran" if code in (0, 1) and "verdict" in entry else "failed"
        _save_records(upstream, out / "upstream-requests.json")
    except (procs.StartError, subprocess.SubprocessError, OSError) as exc:
        entry["error"] = str(exc).splitlines()[0]
        print(f"interop: {gateway.name}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        entry["error"] = "interrupted"
        raise
    finally:
        for child in reversed(children):
            procs.stop(child)
        _redact_logs(out, secrets)
    return entry


def _write_summary(path: Path, entries: dict[str, dict[str, Any]], features: set[str]) -> None:
    """Update this run's gateways in summary.json; the others keep their last entry."""
    try:
        gateways = json.loads(path.read_text())["gateways"]
    except (OSError, ValueError, KeyError, TypeError):
        gateways = {}
    gateways.update(entries)
    summary = {"suite_features": sorted(features), "gateways": gateways}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")


def _install(gateway: Gateway, args: argparse.Namespace, log: Path) -> float | None:
    """Seconds the install took, or None when the pinned install was already there."""
    if gateway.installed(args.root) and not args.reinstall:
        log.write_text(f"pinned install present: {gateway.home(args.root)}; not reinstalled\n")
        return None
    started = time.monotonic()
    gateway.install(args.root, log)
    return round(time.monotonic() - started, 1)


def _suite_options(gateway: Gateway, upstream: Upstream, features: set[str]) -> list[str]:
    """Options of `conformance run` this version of the suite offers for a real gateway."""
    options = ["--deployment", DEPLOYMENTS[0]]
    if "--profile" in features:
        options += ["--profile", gateway.name]
    return [*options, "--upstream", upstream.url]


def _suite_features() -> set[str]:
    """Which of the optional `conformance run` flags this checkout has (the suite grows)."""
    text = subprocess.run(
        [*SUITE, "run", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    return {flag for flag in ("--profile",) if re.search(rf"{flag}\b", text)}


def _verdict(results: Path) -> dict[str, Any]:
    if not results.exists():
        return {}
    data = json.loads(results.read_text())
    failed = [c["check_id"] for c in data["checks"] if c["status"] in ("failed", "error")]
    return {
        "verdict": data["verdict"],
        "incomplete": data["incomplete"],
        "requests": data["stats"]["requests"],
        "failed_checks": failed,
    }


def _save_records(upstream: Upstream, path: Path) -> None:
    """What reached the fake upstream, for the judgement in docs/interop/ (best effort)."""
    import httpx

    try:
        answer = httpx.get(upstream.url + "/_upstream/requests", timeout=10.0)
    except httpx.HTTPError:
        return
    if answer.status_code == 200:
        path.write_bytes(answer.content)


def _redact_logs(out: Path, secrets: tuple[str, ...]) -> None:
    redactor = Redactor(secrets)
    if not redactor:
        return
    for path in [*out.glob("*.log"), *out.glob("upstream-requests.json")]:
        path.write_text(redactor.text(path.read_text(errors="replace")))


def _line(name: str, entry: dict[str, Any]) -> str:
    parts = [f"{name:8}", entry["status"]]
    for key, label in (("install_s", "install"), ("start_s", "start"), ("run_s", "run")):
        if entry.get(key) is not None:
            parts.append(f"{label} {entry[key]}s")
    if "verdict" in entry:
        parts.append(
            f"{entry['verdict']} (exit {entry['exit_code']}, {entry['requests']} requests)"
        )
        if entry["failed_checks"]:
            parts.append("failed: " + " ".join(entry["failed_checks"]))
    for key in ("reason", "error"):
        if key in entry:
            parts.append(entry[key])
    return "  ".join(parts)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m interop [GATEWAY ...] [-- RUN OPTIONS]",
        description="Real gateways end to end; options after -- go to `conformance run`.",
    )
    parser.add_argument("gateways", nargs="*", help=f"default: {' '.join(GATEWAYS)}")
    parser.add_argument("--root", type=Path, default=ROOT / ".interop", help="install root")
    parser.add_argument("--reports", type=Path, default=ROOT / "reports" / "interop")
    parser.add_argument("--reinstall", action="store_true", help="install even when pinned")
    parser.add_argument("--max-duration", type=float, default=900.0, help="per run (s)")
    parser.add_argument("--gate", action="store_true", help="exit 1 when a verdict fails")
    return parser


if __name__ == "__main__":
    sys.exit(main())
