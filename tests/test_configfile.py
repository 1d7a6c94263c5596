"""Settings from conformance.toml or [tool.conformance]: the OPTIONS keys, flags win."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from test_pytest_plugin import run_pytest

from conformance import cli
from conformance.configfile import find_config, load_config, settings
from conformance.errors import UsageError


def _args(argv: list[str]) -> argparse.Namespace:
    args = cli._parser().parse_args(argv)
    args.argv = argv
    return cli._with_config_file(args)


def test_conformance_toml_in_the_cwd_sets_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conformance.toml").write_text(
        'base-url = "http://gw.example:8080"\nseed = 9\nnarrow = ["n<=1"]\n'
        'checks = "IMG-COUNT"\nstrict = true\nbaseline = "known.toml"\nmax_requests = 50\n'
    )
    monkeypatch.chdir(tmp_path)
    args = _args(["run"])
    assert args.base_url == "http://gw.example:8080"
    assert (args.seed, args.narrow, args.checks, args.strict) == (9, ["n<=1"], ["IMG-COUNT"], True)
    assert args.max_requests == 50
    assert Path(args.baseline) == tmp_path / "known.toml"  # relative to the file

    # Flags win, a repeated flag replaces the file's list, also when it gives the default.
    args = _args(["run", "--seed", "0", "--narrow", "stream=false", "--base-url", "http://x:1"])
    assert (args.seed, args.narrow, args.base_url) == (0, ["stream=false"], "http://x:1")
    assert args.strict is True


def test_pyproject_table_and_explicit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(tmp_path)
    assert find_config() is None and settings() == {}
    (tmp_path / "pyproject.toml").write_text('[tool.conformance]\nworkers = 2\nrate = "3/s"\n')
    assert settings() == {"workers": 2, "rate": 3.0}
    other = tmp_path / "ci.toml"
    other.write_text("deployment = 'gpt-image-1'\n")
    assert _args(["run", "--config", str(other)]).deployment == "gpt-image-1"
    with pytest.raises(UsageError, match="no such file"):
        settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bse_url = 'http://x'\n", r"unknown key 'bse_url'; did you mean 'base_url'"),
        ("report_dir = 'x'\n", "unknown key 'report_dir'"),
        ("workers = 0\n", "workers: must be at least 1"),
        ("strict = 'yes'\n", "strict: expected true or false"),
        ("narrow = [1, true]\n", "narrow: expected a string or a list"),
        ("seed = [1]\n", "seed: expected a single value"),
        ("seed = \n", "not valid TOML"),
        ('[profiles.portkey]\nauth = "bearer"\n', "built-in profile"),
        ('[profiles.mine]\nauth = "basic"\n', "auth must be api-key or bearer"),
        ('[profiles.mine]\npath = "v1/images"\n', "path must be a path starting with /"),
        ("[profiles.mine]\nretries = 2\n", "unknown key 'retries'"),
        ("[profiles.mine]\nmax-upstream-calls = 0\n", "max_upstream_calls must be"),
        ('[profiles.mine]\nheaders = { "x" = 1 }\n', "headers must be"),
        ('profiles = "kong"\n', "one table per profile"),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "conformance.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_cli_exits_2_on_an_unknown_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conformance.toml").write_text("colour = 'red'\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--dry-run"]) == 2


def test_pytest_plugin_reads_the_same_file(tmp_path: Path) -> None:
    """The file limits the run to two checks; the items of the others are not measured."""
    (tmp_path / "conformance.toml").write_text(
        'checks = ["ERR-EMPTY-PROMPT", "SSE-PARITY"]\nmax_examples = 1\n'
    )
    done = run_pytest(tmp_path, "--gateway-config", "conformance.toml", "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "was not measured by this run" in done.stdout
