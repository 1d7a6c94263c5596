"""What a new user trips over first: check IDs in any case, one fault at a time, the model a
model profile names, baseline typos, where the rest of the failures are, and estimates that
price what a capped or narrowed run really sends."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import cli
from conformance.checks.registry import catalogue
from conformance.client import Client
from conformance.config import run_config
from conformance.configfile import load_config
from conformance.errors import UsageError
from conformance.gate import decide
from conformance.plan.budget import within_cap
from conformance.profiles import PROFILES
from conformance.pytest_plugin import failure_text
from conformance.report.baseline import load_baseline, unknown_entries
from conformance.results import CheckResult, Failure
from conformance.run import dry_run_summary, make_plan, run
from conformance.select import check_ids
from conformance.settings_template import settings_text


def test_check_ids_in_lower_case_are_accepted() -> None:
    assert check_ids(["img-count, sse-parity", "IMG-COUNT"]) == ("IMG-COUNT", "SSE-PARITY")
    assert run_config({"checks": ["img-count"]}).checks == ("IMG-COUNT",)
    with pytest.raises(UsageError, match="did you mean IMG-COUNT"):
        run_config({"checks": ["img-cont"]})


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_second_fault_is_refused_not_silently_replaced(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--fault", "one-based-index", "--fault", "status-201"]
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--fault given twice (one-based-index, status-201)" in err
    assert "one fault per run" in err


def test_the_same_fault_twice_is_one_fault() -> None:
    args = cli._parser().parse_args(["run", "--fault", "status-201", "--fault", "status-201"])
    assert args.fault == "status-201"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ({"model_profile": "gpt-image-1"}, "gpt-image-1"),
        ({"model_profile": "gpt-image-1", "model": "my-model"}, "my-model"),
        ({}, "dall-e-3"),
    ],
)
def test_a_model_profile_sends_its_model_unless_model_is_given(
    given: dict[str, str], sent: str
) -> None:
    config = run_config({**given, "budget": "smoke"})
    assert config.model == sent
    bodies = [c.body for c in make_plan(config).cases if isinstance(c.body, dict)]
    models = {m for b in bodies if isinstance(m := b.get("model"), str)}
    assert sent in models
    if sent != "dall-e-3":
        assert "dall-e-3" not in models


def test_unknown_baseline_ids_warn_and_lower_case_ones_are_read(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text(
        '[[known_failure]]\ncheck_id = "img-count"\n\n'
        '[[known_failure]]\ncheck_id = "IMG-CONT"\nreason = "typo"\n',
        "utf-8",
    )
    baseline = load_baseline(path)
    assert [e.check_id for e in baseline.entries] == ["IMG-COUNT", "IMG-CONT"]
    warnings = unknown_entries(baseline, [c.id for c in catalogue()])
    assert len(warnings) == 1
    assert "'IMG-CONT'" in warnings[0] and "did you mean IMG-COUNT?" in warnings[0]
    assert "excuses nothing" in warnings[0]


def test_run_prints_the_baseline_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text('[[known_failure]]\ncheck_id = "IMG-CONT"\n', "utf-8")
    argv = ["run", "--baseline", str(path), "--dry-run", "--budget", "smoke"]
    assert cli.main([*argv, "--report-dir", str(tmp_path / "r")]) == 0
    assert "conformance: warning: baseline" in capsys.readouterr().err


def _failed_check(count: int) -> CheckResult:
    check = CheckResult("IMG-COUNT", "MUST", "n images", "#/x", "body")
    for i in range(count):
        check.record_failure(Failure("IMG-COUNT", "MUST", f"c{i}", "t", f"got {i}"))
    check.settle()
    return check


def test_the_pytest_item_points_at_a_results_json_that_exists() -> None:
    many = _failed_check(15)
    without = failure_text(many)
    assert "see results.json" not in without
    assert "--gateway-report-dir DIR writes them all to DIR/results.json" in without
    within = failure_text(many, "out/conformance")
    assert f"see {Path('out/conformance') / 'results.json'}" in within
    assert "more" not in failure_text(_failed_check(3))


def test_within_cap_counts_each_case_with_its_fetches() -> None:
    weights = {"a": 1, "b": 3, "c": 1, "d": 1}
    kept = within_cap(list(weights), lambda c: weights[c], 4)
    assert kept == ["a", "b"]
    assert within_cap(list(weights), lambda c: weights[c], None) == list(weights)


def test_a_capped_run_prices_only_what_the_cap_lets_through() -> None:
    whole = dry_run_summary(run_config({"budget": "smoke"}))
    # past the two-sided cases and the negatives (sent first) into the plan's paid cases
    capped = dry_run_summary(run_config({"budget": "smoke", "max_requests": 170}))
    assert capped["requests_estimate"] == 170
    assert capped["not_reached_by_max_requests"]
    cost, full = capped["cost_estimate"], whole["cost_estimate"]
    assert isinstance(cost, dict) and isinstance(full, dict)
    assert 0 < cost["images_priced"] < full["images_priced"]
    images = capped["images_by_source"]
    assert isinstance(images, dict)
    assert capped["images_requested"] == images["plan"] + images["sdk_probe"]


def test_a_selection_estimates_only_the_fetches_its_checks_make() -> None:
    summary = dry_run_summary(run_config({"checks": ["IMG-COUNT"], "budget": "smoke"}))
    by_source = summary["requests_by_source"]
    assert isinstance(by_source, dict)
    assert by_source["image_url_fetches"] == 0, "IMG-COUNT fetches no image URL"
    assert summary["requests_estimate"] == sum(by_source.values())
    fetching = dry_run_summary(run_config({"checks": ["IMG-URL-FETCH"], "budget": "smoke"}))
    fetches = fetching["requests_by_source"]
    assert isinstance(fetches, dict) and fetches["image_url_fetches"] > 0


def test_a_narrowing_says_what_it_turns_into_must_refuse(tmp_path: Path) -> None:
    rules = ["n<=1", "size=1024x1024,1792x1024,1024x1792", "stream=false"]
    config = run_config({"narrow": rules, "budget": "smoke"})
    assert config.now_refused[0] == "n=2..10 is now expected to be refused"
    assert "stream=true is now expected to be refused" in config.now_refused
    assert any(line.startswith("size=256x256, size=512x512") for line in config.now_refused)
    assert run_config({"narrow": ["n>=2"]}).now_refused == ("n=1 is now expected to be refused",)
    assert run_config({}).now_refused == ()
    summary = dry_run_summary(config)
    assert summary["now_refused_by_narrowing"] == list(config.now_refused)


@pytest.mark.parametrize("checks", [[], ["IMG-COUNT"]], ids=["all", "selected"])
def test_the_estimate_is_what_a_run_sends(
    checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conforming gateway gets exactly the requests and images the dry run announces, which
    the progress bar counts against (the README's table is generated from the same). Every
    check that fetches an image URL declares it (`fetches=True`), or a selection of it alone
    would be mis-estimated."""
    config = run_config({"budget": "smoke", "checks": checks})
    summary = dry_run_summary(config)
    images = summary["images_by_source"]
    assert isinstance(images, dict)
    by_code = {c.func.__code__: c for c in catalogue()}
    fetching: set[str] = set()
    fetch = Client.fetch

    def spy(self: Client, url: str, *args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code in by_code:
                fetching.add(by_code[frame.f_code].id)
            frame = frame.f_back  # type: ignore[assignment]
        return fetch(self, url, *args, **kwargs)

    monkeypatch.setattr(Client, "fetch", spy)
    result = run(config)
    if not checks:
        assert fetching, "the run fetched no image URL"
        assert fetching <= {c.id for c in catalogue() if c.fetches}, fetching
    assert decide(result).exit_code == 0
    assert result.stats.requests == summary["requests_estimate"]
    assert result.stats.images == summary["images_requested"] + images["two_sided_at_fake_upstream"]


@pytest.mark.parametrize("name", list(PROFILES))
def test_init_writes_a_settings_file_that_loads(name: str, tmp_path: Path) -> None:
    out = tmp_path / "conformance.toml"
    assert cli.main(["init", "--profile", name, "--out", str(out)]) == 0
    values = load_config(out)
    assert values["profile"] == name and values["budget"] == "smoke"
    assert not {"narrow", "model_profile", "baseline"} & set(values), "nothing that turns red"
    config = run_config(values)
    assert config.profile.name == name and config.base_url
    assert cli.main(["init", "--profile", name, "--out", str(out)]) == 2, "kept without --force"
    assert cli.main(["init", "--profile", name, "--out", str(out), "--force"]) == 0


def test_init_for_the_default_profile_is_green_against_a_conforming_gateway(
    gateway_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "conformance.toml"
    assert cli.main(["init", "--base-url", gateway_url, "--out", str(out)]) == 0
    result = run(run_config({**load_config(out), "checks": ["IMG-COUNT", "ERR-EMPTY-PROMPT"]}))
    assert decide(result).exit_code == 0
    assert result.target.startswith(gateway_url)


def test_init_refuses_an_unknown_profile(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown profile 'kong'"):
        settings_text("kong")


def test_a_cached_spec_keeps_the_documents_field_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The field order shapes the plan (pairwise rows, cheapest ties): an operation read back
    from the spec cache must plan the same cases as one resolved afresh, or a seed would name
    another plan on a second run."""
    from conformance.spec import cache, load_spec

    monkeypatch.setenv(cache.ENV, "off")
    fresh = list(load_spec().operation.properties)
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    monkeypatch.setattr(cache, "_MEMORY", {})
    first = list(load_spec().operation.properties)  # resolved, then stored
    monkeypatch.setattr(cache, "_MEMORY", {})
    again = list(load_spec().operation.properties)  # read back from disk
    assert list(tmp_path.glob("*.json")), "the second load did not come from the cache"
    assert fresh == first == again
    assert fresh != sorted(fresh), "the bundled document's order is not alphabetical"
