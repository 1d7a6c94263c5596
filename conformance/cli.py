"""The `conformance` command: parse arguments, call the package, print, exit.

Exit codes: `EXIT_CODES` (a stable contract for CI jobs, printed by `--help`).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import difflib
import gc
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from conformance import __version__
from conformance.config import BOUNDS, COST, OPTIONS, OUTPUT, PLAN, TARGET, OneFault
from conformance.configfile import CONFIG_FILE
from conformance.errors import ConformanceError, ExitCode, UsageError

if TYPE_CHECKING:
    from conformance.config import RunConfig

EXIT_OK, EXIT_FAILED = int(ExitCode.OK), int(ExitCode.FAILED)
EXIT_CODES = """exit codes:
  0  CONFORMANT: every MUST check in scope judged and passed (--strict: SHOULD too)
  1  NOT CONFORMANT: failures found (wins over 4), or a crashed check
  2  usage, configuration or spec error; or a run that could judge no MUST check
  3  the target could not be reached
  4  INCOMPLETE: no failure found, but a MUST check in scope (or one --require names) was not
     judged: --max-requests, the run deadline, the budget, a stop signal, a suite-side error"""
DEFAULT_REPORT_DIR = Path("reports/latest")
OPERATION_HELP = "the operation: an operationId or 'METHOD /path' (default: the image operation)"
DEFAULT_REPLAY_DIR = Path("reports/replay")
REPLAY_OPTIONS = (
    "base_url",
    "api_key",
    "header",
    "spec",
    "operation",
    *(o.name for o in OPTIONS if o.group == BOUNDS),
)


def main(argv: Sequence[str] | None = None) -> int:
    _freeze_at_exit()
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        code: int = args.handler(args)
        return code
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:  # a second Ctrl-C / SIGTERM: nothing more is written
        print("conformance: interrupted", file=sys.stderr)
        return int(ExitCode.INCOMPLETE)
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _freeze_at_exit() -> None:
    """At the process's exit (after the atexit handlers registered later), move the heap to
    the collector's permanent generation: the interpreter's teardown then leaves the cycles
    of a run's heap (modules, classes, plan, results) to the OS instead of collecting them,
    which took about 0.3 s. Registered once, however often `main` runs in one process."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


class _HelpFormatter(argparse.HelpFormatter):
    """Every flag's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default:" in text
            or not action.option_strings
            or default in (None, False, [], argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: {default})"


class _EpilogFormatter(_HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Flags as `_HelpFormatter`; the epilog (the exit codes) as written."""


class _Parser(argparse.ArgumentParser):
    """argparse that suggests the closest flag or subcommand to a mistyped one."""

    related: list[argparse.ArgumentParser]

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.related = [self]

    def error(self, message: str) -> NoReturn:
        hint = _suggestion(message, self.related)
        super().error(message + (f"; did you mean {hint}?" if hint else ""))


def _suggestion(message: str, parsers: list[argparse.ArgumentParser]) -> str | None:
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        options = re.findall(r"'([^']*)'", choice.group(2)) or choice.group(2).split(", ")
        word, candidates = choice.group(1), options
    elif message.startswith("unrecognized arguments:"):
        flags = [w for w in message.split(":", 1)[1].split() if w.startswith("-")]
        if not flags:
            return None
        word = flags[0].split("=")[0]
        helps = " ".join(p.format_help() for p in parsers)
        candidates = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", helps)))
    else:
        return None
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _parser(unset: object | None = None) -> argparse.ArgumentParser:
    """The command line; with `unset`, every run option not given on it reads as `unset`
    (how `_with_config_file` tells a flag from a default)."""
    parser = _Parser(
        prog="conformance",
        description="Conformance suite for AI gateways' image-generation endpoints.",
        epilog=EXIT_CODES,
        formatter_class=_EpilogFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="run the suite against a gateway",
        epilog=EXIT_CODES,
        formatter_class=_EpilogFormatter,
    )
    groups = {name: run.add_argument_group(name) for name in (TARGET, PLAN, COST, BOUNDS, OUTPUT)}
    for option in OPTIONS:
        groups[option.group].add_argument(option.flag, **option.argparse_kwargs())
    plan = groups[PLAN]
    plan.add_argument("--dry-run", action="store_true", help="print the plan; send nothing")
    plan.add_argument(
        "--list",
        action="store_true",
        help="print every planned case and write plan.json to --report-dir; sends nothing "
        "(a dry run)",
    )
    run.add_argument(
        "--config",
        type=Path,
        help=f"settings file (default: ./{CONFIG_FILE}, or [tool.conformance] in ./pyproject.toml)",
    )
    out = groups[OUTPUT]
    out.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help="where the reports go",
    )
    out.add_argument("--write-baseline", type=Path, help="write a baseline of current failures")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line")
    run.set_defaults(handler=_cmd_run)
    if unset is not None:
        run.set_defaults(**{o.name: unset for o in OPTIONS if o.action != "append"})
    _add_replay_and_merge(sub, unset)

    serve = sub.add_parser("serve", help="serve the reference gateway")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument(
        "--port", type=int, default=8080, help="port (0: a free one; the first line is its URL)"
    )
    serve.add_argument("--spec", help="OpenAPI document (path or URL)")
    serve.add_argument("--operation", help=OPERATION_HELP, metavar="ID")
    serve.add_argument(
        "--fault",
        action=OneFault,
        help="switch on one fault of the catalogue (see --list-faults)",
    )
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
    _latency_options(serve)
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
    upstream.add_argument("--operation", help=OPERATION_HELP, metavar="ID")
    upstream.set_defaults(handler=_cmd_upstream)

    init = sub.add_parser("init", help=f"write a working ./{CONFIG_FILE} for a gateway profile")
    init.add_argument(
        "--profile", default="bifrost", help="built-in profile: " + ", ".join(_profile_names())
    )
    init.add_argument("--base-url", help="where the gateway listens (default: the profile's usual)")
    init.add_argument("--out", type=Path, default=Path(CONFIG_FILE), help="the file to write")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(handler=_cmd_init)

    checks = sub.add_parser("checks", help="list the check catalogue")
    checks.add_argument("--spec", help="OpenAPI document (for absolute spec pointers)")
    checks.add_argument("--operation", help=OPERATION_HELP, metavar="ID")
    checks.add_argument("--json", action="store_true", help="machine-readable output")
    checks.set_defaults(handler=_cmd_checks)

    report = sub.add_parser("report", help="re-render reports from a saved results.json")
    report.add_argument("results", type=Path, help="a results.json written by `run`")
    report.add_argument("--out", type=Path, help="output directory (default: beside the file)")
    report.set_defaults(handler=_cmd_report)

    diff = sub.add_parser(
        "diff",
        help="compare two saved runs: exit 1 when the later one has new failures, or no longer "
        "judges a check that passed",
    )
    diff.add_argument("before", type=Path, help="the earlier results.json")
    diff.add_argument("after", type=Path, help="the later results.json")
    diff.set_defaults(handler=_cmd_diff)
    parser.related = [parser, *sub.choices.values()]
    return parser


# -- commands ------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from conformance import console
    from conformance.config import run_config
    from conformance.gate import decide
    from conformance.report import check_report_dir, write_reports
    from conformance.report.summary import append_step_summary
    from conformance.run import dry_run_summary, run, target

    stop = threading.Event()
    if not (args.dry_run or args.list):
        _stop_on_signals(stop)  # first: a stop while the plan is built still writes reports
    args = _with_config_file(args)
    _check_fault(args.fault)
    config = run_config(vars(args))
    config.stop = stop
    out = console.Console(quiet=args.quiet, secrets=config.secrets())
    baseline = None
    if args.baseline:
        from dataclasses import replace

        from conformance.checks.registry import catalogue
        from conformance.report.baseline import load_baseline, unknown_entries

        baseline = replace(load_baseline(args.baseline), strict=args.strict_baseline)
        for warning in unknown_entries(baseline, [c.id for c in catalogue()]):
            out.warn(warning)
    check_report_dir(args.report_dir)
    if args.list:
        return _list_plan(config, args.report_dir)
    if args.dry_run:
        out.plan(dry_run_summary(config), seed=args.seed)
        return EXIT_OK
    out.starting(config.base_url or "embedded reference gateway", config.spec, args.seed)
    _spec_notes(out, config.spec.notes)
    for line in config.now_refused:
        out.note(f"narrowed: {line} (valid in the full spec)")
    with out.progress(in_flight=config.workers) as progress:
        progress.phase("plan", f"budget {config.budget}, seed {config.seed}")
        with target(config) as served:  # an embedded gateway starts while the plan is drawn
            summary = dry_run_summary(config)
            planned = int(str(summary["requests_estimate"]))  # within --max-requests
            progress.expect(planned)
            progress.phase("send", f"{planned} requests planned")
            preparing = _prepare_reports()
            result = run(config, progress=progress, served=served)
        progress.phase("report", str(args.report_dir))
        result.baseline = baseline
        preparing.join()
        paths = write_reports(result, args.report_dir, config.secrets())
    append_step_summary(paths["summary"])
    gate = decide(result)
    if args.write_baseline:
        from conformance.report.baseline import write_baseline

        write_baseline(result, args.write_baseline)
        out.note(f"baseline written to {args.write_baseline}")
    out.summary(result, paths)
    return int(gate.exit_code)


def _prepare_reports() -> threading.Thread:
    """Compile the HTML report's template in the background while the run sends (about a
    third of the time the reports took after the last answer). A failure is left to
    `write_reports`, which then meets it and says so."""
    from conformance.report.html import prepare

    def quietly() -> None:
        with contextlib.suppress(Exception):
            prepare()

    thread = threading.Thread(target=quietly, name="conformance-report-prepare", daemon=True)
    thread.start()
    return thread


def _spec_notes(out: Any, notes: list[str], shown: int = 3) -> None:
    """The document's validation findings outside the operation under test: not fatal, said."""
    for note in notes[:shown]:
        out.note(f"note: {note}")
    if len(notes) > shown:
        out.note(f"note: {len(notes) - shown} more findings outside the operation under test")


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
    spec = narrow(load_spec(args.spec, operation=args.operation), args.narrow)

    def announce(url: str) -> None:
        # The first line is the bare URL actually bound (`--port 0`), for scripts to read.
        print(url, flush=True)
        print(f"reference gateway on {url}", flush=True)
        if args.fault:
            print(f"fault: {args.fault}", flush=True)
        if args.upstream:
            print(f"forwarding to {args.upstream}", flush=True)

    serve(
        spec,
        host=args.host,
        port=args.port,
        fault=args.fault,
        upstream=args.upstream,
        announce=announce,
        **_latency_config(args),
    )
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
        serve_upstream(
            load_spec(args.spec, operation=args.operation), settings, host=args.host, port=args.port
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    return EXIT_OK


def _profile_names() -> list[str]:
    from conformance.profiles import PROFILES

    return list(PROFILES)


def _cmd_init(args: argparse.Namespace) -> int:
    from conformance.settings_template import settings_text, write_settings

    path = write_settings(args.out, settings_text(args.profile, args.base_url), args.force)
    print(f"wrote {path}; `conformance run` reads it (from this directory, or with --config)")
    return EXIT_OK


def _cmd_checks(args: argparse.Namespace) -> int:
    from conformance.checks.registry import catalogue
    from conformance.listing import print_catalogue
    from conformance.spec import load_spec

    op = load_spec(args.spec, validate=False, operation=args.operation).operation
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


# -- cost and latency options ---------------------------------------------------------------


def _latency_options(serve: argparse.ArgumentParser) -> None:
    slow = serve.add_argument_group("a slow provider")
    slow.add_argument(
        "--latency", type=float, default=0.0, metavar="SECONDS", help="delay before each answer"
    )
    slow.add_argument(
        "--image-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="streams: delay before each image's events",
    )


def _latency_config(args: argparse.Namespace) -> dict[str, float]:
    if args.latency < 0 or args.image_delay < 0:
        raise UsageError("--latency and --image-delay must not be negative")
    return {"latency_s": args.latency, "image_delay_s": args.image_delay}


def _list_plan(config: RunConfig, report_dir: Path) -> int:
    """`--dry-run --list`: every planned case on stdout, and plan.json; nothing is sent."""
    import json

    from conformance.plan.listing import case_line, plan_document
    from conformance.report.atomic import write_atomic
    from conformance.run import dry_run_summary, make_plan

    plan = make_plan(config)
    summary = dry_run_summary(config)
    for case in plan.cases:
        print(case_line(case))
    report_dir.mkdir(parents=True, exist_ok=True)
    document = json.dumps(plan_document(plan, summary), indent=2, ensure_ascii=False)
    path = write_atomic(report_dir / "plan.json", document + "\n")
    print(f"{len(plan.cases)} cases (seed {config.seed}); plan.json: {path}")
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from conformance import console
    from conformance.gate import decide
    from conformance.replay import replay_config
    from conformance.report import write_reports
    from conformance.report.jsonreport import load_results
    from conformance.run import run

    args = _with_config_file(args, REPLAY_OPTIONS)
    saved = load_results(_readable(args.results))
    values = {name: getattr(args, name) for name in REPLAY_OPTIONS}
    config, replay = replay_config(saved, values, args.case)
    out = console.Console(quiet=args.quiet, secrets=config.secrets())
    out.starting(config.base_url or "embedded reference gateway", config.spec, saved.seed)
    _stop_on_signals(config.stop)
    with out.progress(in_flight=config.workers) as progress:
        progress.phase("send", f"{len(replay.cases)} cases to replay")
        result = run(config, progress=progress, cases=replay.cases)
        progress.phase("report", str(args.report_dir))
        result.baseline = saved.baseline
        result.coverage["replay"] = {
            "results": str(args.results),
            "cases": [c.id for c in replay.cases],
            "checks": list(replay.checks),
        }
        paths = write_reports(result, args.report_dir)
    out.summary(result, paths)
    return int(decide(result).exit_code)


def _cmd_merge(args: argparse.Namespace) -> int:
    from conformance import console
    from conformance.gate import decide
    from conformance.report import write_reports
    from conformance.report.jsonreport import load_results
    from conformance.report.merge import merge_results

    shards = [load_results(_readable(path)) for path in args.results]
    result = merge_results(shards, [str(p) for p in args.results])
    paths = write_reports(result, args.report_dir)
    console.Console(quiet=args.quiet, secrets=[]).summary(result, paths)
    return int(decide(result).exit_code)


def _add_replay_and_merge(sub: Any, unset: object | None) -> None:
    """`conformance replay` and `conformance merge` (`sub`: the subcommands of `_parser`)."""
    by_name = {o.name: o for o in OPTIONS}
    replay = sub.add_parser(
        "replay",
        help="send a saved run's failing requests again and judge them (exit codes as for run)",
    )
    replay.add_argument("results", type=Path, help="results.json of a run")
    replay.add_argument("--case", metavar="ID", help="replay only the failures of this case")
    for name in REPLAY_OPTIONS:
        option = by_name[name]
        kwargs = option.argparse_kwargs()
        if name == "base_url":
            kwargs["help"] = "gateway URL (default: the saved run's target)"
        if name == "spec":
            kwargs["help"] = "OpenAPI document (default: the one the saved run used)"
        replay.add_argument(option.flag, **kwargs)
    replay.add_argument("--config", type=Path, help="settings file (as for run)")
    replay.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPLAY_DIR,
        help=f"where the replay's reports go (default: {DEFAULT_REPLAY_DIR})",
    )
    replay.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line")
    replay.set_defaults(handler=_cmd_replay)
    if unset is not None:
        replay.set_defaults(**{n: unset for n in REPLAY_OPTIONS if by_name[n].action != "append"})

    merge = sub.add_parser("merge", help="combine the results.json of --shard runs into one report")
    merge.add_argument("results", type=Path, nargs="+", help="results.json of each shard")
    merge.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help=f"where the merged reports go (default: {DEFAULT_REPORT_DIR})",
    )
    merge.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line")
    merge.set_defaults(handler=_cmd_merge)


# -- argument helpers ----------------------------------------------------------------------


def _with_config_file(
    args: argparse.Namespace, names: Sequence[str] | None = None
) -> argparse.Namespace:
    """`args` with the settings of the configuration file filled in where no flag was given
    (flags win; a repeatable flag given replaces the file's list)."""
    from conformance.configfile import settings
    from conformance.profiles import PROFILES_KEY

    wanted = {*(names or (o.name for o in OPTIONS)), PROFILES_KEY}
    from_file = {k: v for k, v in settings(args.config).items() if k in wanted}
    if not from_file:
        return args
    unset = object()
    explicit = vars(_parser(unset).parse_args(args.argv))
    merged = vars(args).copy()
    for name, value in from_file.items():
        given = explicit.get(name, unset)
        if given is unset or given == []:
            merged[name] = value
    return argparse.Namespace(**merged)


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
