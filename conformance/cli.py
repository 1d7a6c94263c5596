"""The `conformance` command: parse arguments, call the package, print, exit.

Exit codes (a stable contract for CI jobs):
  0  no MUST-level failure (with --strict: no MUST or SHOULD failure)
  1  failures found (or the run was interrupted: INCOMPLETE)
  2  usage, configuration or spec error
  3  the target could not be reached
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from conformance import __version__
from conformance.config import BOUNDS, OPTIONS, OUTPUT, PLAN, TARGET
from conformance.errors import ConformanceError, ExitCode, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = (int(c) for c in ExitCode)
DEFAULT_REPORT_DIR = Path("reports/latest")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance suite for AI gateways' image-generation endpoints.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the suite against a gateway")
    groups = {name: run.add_argument_group(name) for name in (TARGET, PLAN, BOUNDS, OUTPUT)}
    for option in OPTIONS:
        groups[option.group].add_argument(option.flag, **option.argparse_kwargs())
    plan = groups[PLAN]
    plan.add_argument("--dry-run", action="store_true", help="print the plan; send nothing")
    out = groups[OUTPUT]
    out.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help=f"where the reports go (default: {DEFAULT_REPORT_DIR})",
    )
    out.add_argument("--write-baseline", type=Path, help="write a baseline of current failures")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line")
    run.set_defaults(handler=_cmd_run)

    serve = sub.add_parser("serve", help="serve the reference gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--spec", help="OpenAPI document (path or URL)")
    serve.add_argument("--fault", help="switch on one fault of the catalogue (see --list-faults)")
    serve.add_argument(
        "--narrow",
        action="append",
        default=[],
        metavar="RULE",
        help="serve a narrowed spec (as `run --narrow`)",
    )
    serve.add_argument("--list-faults", action="store_true", help="print the fault catalogue")
    serve.add_argument(
        "--upstream", metavar="URL", help="forward valid requests to this upstream (Azure style)"
    )
    serve.set_defaults(handler=_cmd_serve)

    upstream = sub.add_parser(
        "upstream", help="serve the fake upstream (Azure OpenAI / OpenAI image APIs)"
    )
    upstream.add_argument("--host", default="127.0.0.1")
    upstream.add_argument("--port", type=int, default=0, help="0 (default): a free port")
    upstream.add_argument("--key", help="the only key accepted (default: any non-empty key)")
    upstream.add_argument(
        "--model-family",
        default="spec",
        choices=["spec", "dall-e-3", "gpt-image-1"],
        help="behave like this model (default: accept everything the spec allows)",
    )
    upstream.add_argument(
        "--stream-pace", type=float, default=0.05, help="seconds before each stream event"
    )
    upstream.add_argument("--spec", help="OpenAPI document (path or URL)")
    upstream.set_defaults(handler=_cmd_upstream)

    checks = sub.add_parser("checks", help="list the check catalogue")
    checks.add_argument("--spec", help="OpenAPI document (for absolute spec pointers)")
    checks.add_argument("--json", action="store_true", help="machine-readable output")
    checks.set_defaults(handler=_cmd_checks)

    report = sub.add_parser("report", help="re-render reports from a saved results.json")
    report.add_argument("results", type=Path)
    report.add_argument("--out", type=Path, help="output directory (default: beside the file)")
    report.set_defaults(handler=_cmd_report)

    diff = sub.add_parser("diff", help="compare two saved runs")
    diff.add_argument("before", type=Path)
    diff.add_argument("after", type=Path)
    diff.set_defaults(handler=_cmd_diff)
    return parser


# -- commands ------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from conformance import console
    from conformance.config import run_config
    from conformance.report import write_reports
    from conformance.runner import dry_run_summary, run

    _check_fault(args.fault)
    config = run_config(vars(args))
    baseline = None
    if args.baseline:
        from dataclasses import replace

        from conformance.report.baseline import load_baseline

        baseline = replace(load_baseline(args.baseline), strict=args.strict_baseline)
    out = console.Console(quiet=args.quiet, secrets=config.secrets())
    if args.dry_run:
        out.plan(dry_run_summary(config), seed=args.seed)
        return EXIT_OK
    out.starting(config.base_url or "embedded reference gateway", config.spec, args.seed)
    _stop_on_signals(config.stop)
    with out.progress() as tick:
        result = run(config, progress=tick)
    result.baseline = baseline
    paths = write_reports(result, args.report_dir)
    gate = result.gate
    if args.write_baseline:
        from conformance.report.baseline import write_baseline

        write_baseline(result, args.write_baseline)
        out.note(f"baseline written to {args.write_baseline}")
    out.summary(result, paths)
    return int(gate.exit_code)


def _cmd_serve(args: argparse.Namespace) -> int:
    from conformance.spec import load_spec, narrow
    from conformance.targets.faults import FAULTS
    from conformance.targets.server import serve

    if args.list_faults:
        for fault in FAULTS.values():
            flag = "benign" if fault.benign else fault.expected_check
            print(f"{fault.id:40} {flag:28} {fault.summary}")
        return EXIT_OK
    _check_fault(args.fault)
    spec = narrow(load_spec(args.spec), args.narrow)
    print(
        f"reference gateway on http://{args.host}:{args.port}"
        + (f" (fault: {args.fault})" if args.fault else "")
        + (f", forwarding to {args.upstream}" if args.upstream else ""),
        flush=True,
    )
    serve(spec, host=args.host, port=args.port, fault=args.fault, upstream=args.upstream)
    return EXIT_OK


def _cmd_upstream(args: argparse.Namespace) -> int:
    from conformance.spec import load_spec
    from conformance.targets.upstream import UpstreamSettings, serve_upstream

    if args.stream_pace < 0:
        raise UsageError("--stream-pace must not be negative")
    settings = UpstreamSettings(
        key=args.key or None, model_family=args.model_family, pace_s=args.stream_pace
    )
    try:
        serve_upstream(load_spec(args.spec), settings, host=args.host, port=args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    return EXIT_OK


def _cmd_checks(args: argparse.Namespace) -> int:
    from conformance.checks.registry import catalogue
    from conformance.listing import print_catalogue
    from conformance.spec import load_spec

    op = load_spec(args.spec, validate=False).operation
    print_catalogue(catalogue(), op, as_json=args.json)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import render_from_json

    paths = render_from_json(_readable(args.results), args.out or args.results.parent)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from conformance.report.diff import diff_files

    text, changed = diff_files(_readable(args.before), _readable(args.after))
    print(text)
    return EXIT_FAILED if changed else EXIT_OK


# -- argument helpers ----------------------------------------------------------------------


def _check_fault(fault: str | None) -> None:
    if not fault:
        return
    from conformance.targets.faults import FAULTS

    if fault not in FAULTS:
        raise UsageError(f"unknown fault {fault!r}; `conformance serve --list-faults` lists them")


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"cannot read {path}")
    return path


def _stop_on_signals(stop: threading.Event) -> None:
    """First Ctrl-C / SIGTERM: stop sending and write what was measured; second: abort."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
