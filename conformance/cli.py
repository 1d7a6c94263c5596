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

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
DEFAULT_REPORT_DIR = Path("reports/latest")


class UsageError(Exception):
    """A configuration problem reported as one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from conformance.report.baseline import BaselineError
    from conformance.report.jsonreport import ResultsError
    from conformance.spec import SpecError

    try:
        code: int = args.handler(args)
        return code
    except (SpecError, UsageError, BaselineError, ResultsError) as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
    target = run.add_argument_group("target")
    target.add_argument("--base-url", help="gateway URL; default: the embedded reference gateway")
    target.add_argument("--spec", help="OpenAPI document (path or URL); default: specs/ bundled")
    target.add_argument("--deployment", default="dall-e-3", help="deployment-id path parameter")
    target.add_argument("--api-version", default="2024-02-01", help="api-version query parameter")
    target.add_argument("--model", default="dall-e-3", help="the body's `model`")
    target.add_argument("--api-key", help="sent as `api-key` (or env CONFORMANCE_API_KEY)")
    target.add_argument(
        "--header", action="append", default=[], metavar="'Name: value'", help="extra header"
    )
    target.add_argument("--fault", help="embedded target only: switch on a fault of the catalogue")
    target.add_argument(
        "--upstream",
        metavar="URL",
        help="the fake upstream the gateway calls (`conformance upstream`): adds the two-sided "
        "checks; default with the embedded gateway: a fake upstream of its own",
    )
    target.add_argument(
        "--max-upstream-calls",
        type=_positive_int,
        default=1,
        help="upstream calls a request without fallbacks may cause (the gateway's retries)",
    )
    target.add_argument(
        "--credential-passes",
        action="store_true",
        help="the client credential is the upstream's key by design (e.g. Portkey's "
        "Authorization): FWD-NO-CLIENT-CREDENTIAL is not judged",
    )
    target.add_argument(
        "--narrow",
        action="append",
        default=[],
        metavar="RULE",
        help="narrow the spec to what the deployment's model supports: "
        "'n<=1', 'size=1024x1024,1792x1024', 'stream=false'",
    )
    plan = run.add_argument_group("plan")
    plan.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    plan.add_argument("--max-examples", type=_positive_int, help="random valid bodies to send")
    plan.add_argument("--max-requests", type=_positive_int, help="hard cap on requests sent")
    plan.add_argument("--dry-run", action="store_true", help="print the plan; send nothing")
    plan.add_argument("--no-shrink", action="store_true", help="do not minimise failing cases")
    bounds = run.add_argument_group("bounds and pacing")
    bounds.add_argument("--timeout", type=_positive_float, default=60.0, help="per request (s)")
    bounds.add_argument("--connect-timeout", type=_positive_float, default=5.0)
    bounds.add_argument("--read-timeout", type=_positive_float, default=30.0)
    bounds.add_argument("--max-body-mb", type=_positive_float, default=96.0)
    bounds.add_argument("--max-events", type=_positive_int, default=2000)
    bounds.add_argument("--max-stream-s", type=_positive_float, default=60.0)
    bounds.add_argument(
        "--stream-grace-s",
        type=_positive_float,
        default=2.0,
        help="how long a stream may stay open after its last expected image",
    )
    bounds.add_argument("--max-duration", type=_positive_float, help="whole-run deadline (s)")
    bounds.add_argument("--workers", type=_positive_int, default=4, help="concurrent requests")
    bounds.add_argument("--rate", type=_rate, help="requests per second, e.g. 5 or 5/s")
    out = run.add_argument_group("verdict and output")
    out.add_argument("--strict", action="store_true", help="SHOULD failures also fail the gate")
    out.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR)
    out.add_argument("--baseline", type=Path, help="expected failures (TOML or YAML)")
    out.add_argument("--strict-baseline", action="store_true", help="stale entries fail the gate")
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
    from conformance.client import Bounds
    from conformance.report import write_reports
    from conformance.runner import RunConfig, TargetUnreachable, dry_run_summary, run
    from conformance.spec import load_spec, narrow

    if args.fault and args.base_url:
        raise UsageError("--fault applies to the embedded reference gateway; drop --base-url")
    _check_fault(args.fault)
    spec = narrow(load_spec(args.spec), args.narrow)
    config = RunConfig(
        spec=spec,
        base_url=args.base_url,
        deployment=args.deployment,
        api_version=args.api_version or None,
        api_key=args.api_key or os.environ.get("CONFORMANCE_API_KEY") or None,
        headers=tuple(_header(h) for h in args.header),
        model=args.model,
        seed=args.seed,
        max_examples=args.max_examples,
        max_requests=args.max_requests,
        bounds=Bounds(
            connect_timeout=args.connect_timeout,
            read_timeout=min(args.read_timeout, args.timeout),
            total_timeout=args.timeout,
            max_body_bytes=int(args.max_body_mb * 1024 * 1024),
            max_events=args.max_events,
            max_stream_s=args.max_stream_s,
            stream_grace_s=args.stream_grace_s,
        ),
        strict=args.strict,
        workers=args.workers,
        rate=args.rate,
        max_duration=args.max_duration,
        shrink=not args.no_shrink,
        fault=args.fault,
        upstream=args.upstream,
        max_upstream_calls=args.max_upstream_calls,
        credential_passes=args.credential_passes,
    )
    out = console.Console(quiet=args.quiet, secrets=_secrets(config))
    if args.dry_run:
        out.plan(dry_run_summary(config), seed=args.seed)
        return EXIT_OK
    out.starting(config.base_url or "embedded reference gateway", spec, args.seed)
    _stop_on_signals(config.stop)
    try:
        with out.progress() as tick:
            result = run(config, progress=tick)
    except TargetUnreachable as exc:
        out.error(str(exc))
        return EXIT_UNREACHABLE
    paths = write_reports(result, args.report_dir)
    code = EXIT_FAILED if result.gate_failed else EXIT_OK
    if result.environment_problems and not any(c.cases_run for c in result.checks):
        out.error("every request met 401/403/429: check credentials and quota")
        code = EXIT_USAGE
    if args.baseline:
        from conformance.report.baseline import apply_baseline, load_baseline

        outcome = apply_baseline(
            result, load_baseline(args.baseline), strict_baseline=args.strict_baseline
        )
        out.baseline(outcome)
        code = max(code, outcome.exit_code) if result.incomplete else outcome.exit_code
    if args.write_baseline:
        from conformance.report.baseline import write_baseline

        write_baseline(result, args.write_baseline)
        out.note(f"baseline written to {args.write_baseline}")
    out.summary(result, paths)
    return code


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
    from conformance import console
    from conformance.checks.registry import catalogue
    from conformance.spec import load_spec

    op = load_spec(args.spec).operation
    console.print_catalogue(catalogue(), op, as_json=args.json)
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


def _rate(text: str) -> float:
    return _positive_float(text.removesuffix("/s"))


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"--header must look like 'Name: value', got {text.split(':')[0]!r}")
    return name.strip(), value.strip()


def _secrets(config: object) -> list[str]:
    from conformance.redaction import Redactor
    from conformance.runner import RunConfig

    assert isinstance(config, RunConfig)
    values = [v for _, v in config.headers] + ([config.api_key] if config.api_key else [])
    return values if Redactor(values) else []


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
