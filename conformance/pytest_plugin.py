"""The check catalogue as pytest items: `pytest --gateway-url URL`.

Without `--gateway-url` the plugin adds nothing. With it, the suite runs once per session and
every check of the catalogue becomes an item `test_conformance[CHECK-ID]`: a failed MUST check
fails (a failed SHOULD check too with `--gateway-strict`), any other failed check is an expected
failure (a warning), a check that applied to no exchange is skipped. Under pytest-xdist the
controller runs the suite before the workers start and hands them its `results.json`, so every
worker judges the same run.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.results import CheckResult, RunResult

PLUGIN_NAME = "gateway-conformance-session"
COLLECTOR_NAME = "gateway-conformance"
ITEM_PREFIX = "test_conformance"
RESULTS_KEY = "gateway_conformance_results"
ERROR_KEY = "gateway_conformance_error"
MAX_FAILURES_SHOWN = 10
DEST_PREFIX = "gateway_"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every option of `conformance run` as `--gateway-*` (one table: `conformance.config`)."""
    from conformance.config import OPTIONS

    group = parser.getgroup("gateway-conformance", "gateway conformance")
    for option in OPTIONS:
        kwargs = {**option.argparse_kwargs(), "dest": DEST_PREFIX + option.name}
        if option.action != "append":
            kwargs["default"] = None  # not given: the configuration file's value, else the default
        group.addoption(option.pytest_flag, **kwargs)
    group.addoption(
        "--gateway-config",
        default=None,
        dest="gateway_config",
        help="settings file (default: ./conformance.toml, or [tool.conformance] in "
        "./pyproject.toml); read when --gateway-url or --gateway-config is given",
    )
    group.addoption(
        "--gateway-report-dir",
        default=None,
        dest="gateway_report_dir",
        help="also write report.html/results.json/junit.xml",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(DEST_PREFIX + "base_url", None) or config.getoption("gateway_config", None):
        config.pluginmanager.register(GatewayConformance(config), PLUGIN_NAME)


class ConformanceFailure(Exception):
    """A check failed: the message is the whole explanation."""


class GatewayRunError(Exception):
    """The suite could not run against the gateway."""


def failure_text(check: CheckResult, report_dir: str | None = None) -> str:
    """Why `check` failed, with the failures' expected/actual and curl lines; the others are in
    `report_dir`'s results.json when the session writes one, else the way to get it."""
    from conformance.report.text import failure_lines

    rest = (
        f"see {Path(report_dir) / 'results.json'}"
        if report_dir
        else "--gateway-report-dir DIR writes them all to DIR/results.json"
    )
    header = [f"{check.check_id} [{check.level}] {check.statement}", f"  spec: {check.pointer}"]
    return "\n".join(header + failure_lines(check, MAX_FAILURES_SHOWN, rest))


class GatewayConformance:
    """The session's run: made once, or read from the controller's results.json."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._result: RunResult | None = None
        self._error: str | None = None
        self._tmpdir: Path | None = None
        self._secrets: list[str] = []

    # -- the run ---------------------------------------------------------------------------

    def _run(self) -> RunResult:
        from dataclasses import replace

        from conformance.checks.registry import catalogue
        from conformance.config import OPTIONS, run_config
        from conformance.configfile import settings
        from conformance.report.baseline import load_baseline, unknown_entries
        from conformance.run import run

        given = {o.name: self.config.getoption(DEST_PREFIX + o.name) for o in OPTIONS}
        values = {
            **settings(self.config.getoption("gateway_config")),
            **{k: v for k, v in given.items() if v is not None and v != []},
        }
        values.setdefault("baseline", None)
        values.setdefault("strict_baseline", False)
        run_config_ = run_config(values)
        self._secrets = run_config_.secrets()
        result = run(run_config_)
        if values["baseline"]:
            baseline = load_baseline(values["baseline"])
            for warning in unknown_entries(baseline, [c.id for c in catalogue()]):
                warnings.warn(warning, UserWarning, stacklevel=1)
            result.baseline = replace(baseline, strict=bool(values["strict_baseline"]))
        return result

    def _ensure(self) -> None:
        if self._result is not None or self._error is not None:
            return
        workerinput: dict[str, Any] = getattr(self.config, "workerinput", {})
        try:
            if workerinput.get(ERROR_KEY):
                self._error = str(workerinput[ERROR_KEY])
            elif workerinput.get(RESULTS_KEY):
                from conformance.report.jsonreport import load_results

                self._result = load_results(workerinput[RESULTS_KEY])
            else:
                self._result = self._run()
        except Exception as exc:  # reported on every item, not as an internal error
            self._error = f"{exc.__class__.__name__}: {exc}"

    def result(self) -> RunResult:
        self._ensure()
        if self._result is None:
            raise GatewayRunError(f"the conformance run did not complete: {self._error}")
        return self._result

    # -- hooks -----------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: run once, before the workers start, and share the results."""
        self._ensure()
        if self._result is None:
            node.workerinput[ERROR_KEY] = self._error
            return
        if self._tmpdir is None:
            from conformance.report.jsonreport import write_json

            self._tmpdir = Path(tempfile.mkdtemp(prefix="gateway-conformance-"))
            write_json(self._result, self._tmpdir / "results.json")
        node.workerinput[RESULTS_KEY] = str(self._tmpdir / "results.json")

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        collector = ConformanceCollector.from_parent(
            session, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME
        )
        items.extend(collector.collect())

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        report_dir = self.config.getoption("gateway_report_dir")
        if report_dir and self._result is not None and not hasattr(self.config, "workerinput"):
            from conformance.report import write_reports

            write_reports(self._result, Path(report_dir), self._secrets)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._result is None and self._error is None:
            return
        terminalreporter.section("gateway conformance")
        if self._result is None:
            terminalreporter.write_line(f"run failed: {self._error}", red=True)
            return
        from conformance.gate import decide

        result = self._result
        terminalreporter.write_line(
            f"{decide(result).headline}: "
            f"{result.target}; {result.stats.requests} requests, "
            f"{result.stats.images} images, {result.stats.duration_s:.1f} s, seed {result.seed}"
        )
        for problem in result.environment_problems:
            terminalreporter.write_line(
                f"environment: HTTP {problem.status} on {problem.case_id}: {problem.message}"
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


class ConformanceCollector(pytest.Collector):
    """Collects one item per check of the catalogue."""

    def collect(self) -> list[pytest.Item]:
        from conformance.checks.registry import catalogue

        return [
            ConformanceItem.from_parent(
                self,
                name=f"{ITEM_PREFIX}[{check.id}]",
                nodeid=f"{self.nodeid}::{ITEM_PREFIX}[{check.id}]",
                check_id=check.id,
            )
            for check in catalogue()
        ]


class ConformanceItem(pytest.Item):
    """One check of the catalogue, judged on the session's run."""

    def __init__(self, *, check_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_id = check_id

    def runtest(self) -> None:
        from conformance.gate import Disposition, decide

        plugin = self.config.pluginmanager.get_plugin(PLUGIN_NAME)
        assert isinstance(plugin, GatewayConformance)
        result = plugin.result()
        gate = decide(result)
        check = next((c for c in result.checks if c.check_id == self.check_id), None)
        disposition = gate.dispositions.get(self.check_id)
        if check is None:
            pytest.skip(f"{self.check_id} was not measured by this run")
        elif disposition is Disposition.FAILS_GATE:
            report_dir = self.config.getoption("gateway_report_dir")
            raise ConformanceFailure(failure_text(check, report_dir))
        elif disposition is Disposition.WARNING:
            pytest.xfail(f"{check.level} not met: {check.failures[0].message}")
        elif disposition is Disposition.KNOWN:
            entry = gate.known_entry(self.check_id)
            pytest.xfail(f"known failure (baseline): {entry.reason if entry else ''}")
        elif disposition is Disposition.UNJUDGED:
            raise ConformanceFailure(f"{self.check_id} not judged: {check.unjudged_reason}")
        elif disposition is Disposition.OUT_OF_SCOPE:
            pytest.skip(f"{self.check_id} {check.left_out_as}: {check.unjudged_reason}")
        elif disposition is Disposition.SKIPPED:
            pytest.skip(f"{self.check_id} applied to no exchange of this run")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ConformanceFailure | GatewayRunError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
