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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gateway-conformance", "gateway conformance")
    group.addoption("--gateway-url", default=None, help="base URL of the gateway under test")
    group.addoption("--gateway-spec", default=None, help="OpenAPI document (path or URL)")
    group.addoption("--gateway-api-key", default=None, help="api key sent to the gateway")
    group.addoption("--gateway-deployment", default=None, help="deployment id in the path")
    group.addoption("--gateway-seed", type=int, default=0, help="seed of the generated cases")
    group.addoption("--gateway-strict", action="store_true", help="failed SHOULD checks fail too")
    group.addoption(
        "--gateway-max-examples", type=int, default=None, help="generated cases per strategy"
    )
    group.addoption(
        "--gateway-report-dir", default=None, help="also write report.html/results.json/junit.xml"
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("gateway_url"):
        config.pluginmanager.register(GatewayConformance(config), PLUGIN_NAME)


class ConformanceFailure(Exception):
    """A check failed: the message is the whole explanation."""


class GatewayRunError(Exception):
    """The suite could not run against the gateway."""


def failure_text(check: CheckResult) -> str:
    """Why `check` failed, with the failures' expected/actual and curl lines."""
    from conformance.report.text import failure_lines

    header = [f"{check.check_id} [{check.level}] {check.statement}", f"  spec: {check.pointer}"]
    return "\n".join(header + failure_lines(check, MAX_FAILURES_SHOWN))


class GatewayConformance:
    """The session's run: made once, or read from the controller's results.json."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._result: RunResult | None = None
        self._error: str | None = None
        self._tmpdir: Path | None = None

    # -- the run ---------------------------------------------------------------------------

    def _run(self) -> RunResult:
        from conformance.runner import RunConfig, run
        from conformance.spec import load_spec

        option = self.config.getoption
        kwargs: dict[str, Any] = {
            "spec": load_spec(option("gateway_spec")),
            "base_url": option("gateway_url"),
            "api_key": option("gateway_api_key"),
            "seed": option("gateway_seed"),
            "strict": option("gateway_strict"),
        }
        if option("gateway_deployment"):
            kwargs["deployment"] = option("gateway_deployment")
        if option("gateway_max_examples") is not None:
            kwargs["max_examples"] = option("gateway_max_examples")
        return run(RunConfig(**kwargs))

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

            write_reports(self._result, Path(report_dir))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._result is None and self._error is None:
            return
        terminalreporter.section("gateway conformance")
        if self._result is None:
            terminalreporter.write_line(f"run failed: {self._error}", red=True)
            return
        result = self._result
        terminalreporter.write_line(
            f"{result.verdict.value}{' (INCOMPLETE)' if result.incomplete else ''}: "
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
        from conformance.results import Level, Status

        plugin = self.config.pluginmanager.get_plugin(PLUGIN_NAME)
        assert isinstance(plugin, GatewayConformance)
        result = plugin.result()
        gating = {Level.MUST.value, Level.SHOULD.value} if result.strict else {Level.MUST.value}
        check = next((c for c in result.checks if c.check_id == self.check_id), None)
        if check is None:
            pytest.skip(f"{self.check_id} was not measured by this run")
        elif check.status == Status.SKIPPED.value:
            pytest.skip(f"{self.check_id} applied to no exchange of this run")
        elif check.status == Status.FAILED.value and check.level not in gating:
            pytest.xfail(f"{check.level} not met: {check.failures[0].message}")
        elif check.status in (Status.FAILED.value, Status.ERROR.value):
            raise ConformanceFailure(failure_text(check))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ConformanceFailure | GatewayRunError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
