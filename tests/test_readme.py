"""Every command and sample of the README works as written: settings files load (and the
sample run is green against a conforming gateway), every `conformance ...` invocation parses
with the real argument parser (the cheap ones run), the Python sample talks to the reference
gateway, and the numbers are the code's (`make docs`)."""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conformance import __version__, cli
from conformance.config import run_config
from conformance.configfile import load_config
from conformance.gate import decide
from conformance.run import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SETTINGS_SAMPLE = "# conformance.toml\n"
SHELL_BREAK = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
REDIRECT = {">", ">>", "<", "&", "2>", "2>&1"}
CHEAP = ("--dry-run", "--list-faults")
"""Invocations that send nothing: they run here, the others are parsed only."""


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang == language]


def shell_lines(text: str) -> list[str]:
    """Commands of a shell block: continuations joined, comments and blank lines gone."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if words:
            lines.append(line)
    return lines


def yaml_commands(text: str) -> list[str]:
    """The `run:` steps of a workflow sample, GitHub expressions filled in."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("run"), str):
                found.append(re.sub(r"\$\{\{[^}]*\}\}", "1", node["run"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(text))
    return [line for command in found for line in shell_lines(command)]


def invocations(line: str) -> list[list[str]]:
    """The argument lists of every `conformance` (or `make`) in one shell line."""
    found = []
    for part in SHELL_BREAK.split(line):
        words = shlex.split(part, comments=True)
        for program in ("conformance", "make"):
            if program in words:
                argv = words[words.index(program) :]
                cut = next((i for i, w in enumerate(argv) if w in REDIRECT), len(argv))
                found.append(argv[:cut])
    return found


def commands(program: str) -> list[list[str]]:
    lines = [line for body in blocks("sh") for line in shell_lines(body)]
    lines += [line for body in blocks("yaml") for line in yaml_commands(body)]
    return [argv[1:] for line in lines for argv in invocations(line) if argv[0] == program]


def test_the_readme_has_the_samples_this_test_reads() -> None:
    assert len(commands("conformance")) >= 20
    assert any(b.startswith(SETTINGS_SAMPLE) for b in blocks("toml"))
    assert blocks("python") and blocks("yaml")


@pytest.mark.parametrize("argv", commands("conformance"), ids=" ".join)
def test_every_conformance_command_parses(argv: list[str]) -> None:
    try:
        cli._parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`conformance {' '.join(argv)}` does not parse (exit {exc.code})")


@pytest.mark.parametrize(
    "argv", [a for a in commands("conformance") if set(a) & set(CHEAP)], ids=" ".join
)
def test_commands_that_send_nothing_run(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a directory of their own: the documents they name ship with the package."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 0


@pytest.mark.parametrize("argv", [["checks"], ["init", "--profile", "litellm"]], ids=" ".join)
def test_the_first_commands_run(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert argv in commands("conformance") or argv[:1] in commands("conformance")
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 0


def test_every_make_target_exists() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    named = {argv[0] for argv in commands("make") if argv}
    assert named and named <= targets, named - targets


def test_the_synopsis_names_only_real_flags() -> None:
    """The `conformance SUB [--flag ...]` synopsis: each flag exists on that subcommand."""
    synopsis = next(b for b in blocks("") if b.startswith("conformance run ["))
    parser = cli._parser()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    current = None
    for line in synopsis.splitlines():
        line = line.split("#", 1)[0]
        if line.startswith("conformance "):
            current = subcommands[line.split()[1]]
        assert current is not None
        known = {s for action in current._actions for s in action.option_strings}
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line):
            assert flag in known, f"{flag} is no flag of `{current.prog}`"


def _load(text: str, tmp_path: Path) -> dict[str, Any]:
    tomllib.loads(text)
    path = tmp_path / "conformance.toml"
    path.write_text(text, "utf-8")
    return load_config(path)


@pytest.mark.parametrize("text", blocks("toml"), ids=lambda t: t.splitlines()[0])
def test_every_settings_sample_loads(text: str, tmp_path: Path) -> None:
    values = _load(text, tmp_path)
    run_config({"base_url": "http://localhost:8080", **values})


def test_the_settings_sample_is_green_against_a_conforming_gateway(
    gateway_url: str, tmp_path: Path
) -> None:
    """As written, but against the reference gateway and without the pacing (a test must be
    quick): a conforming gateway passes, whatever the sample narrows or names."""
    sample = next(b for b in blocks("toml") if b.startswith(SETTINGS_SAMPLE))
    values = _load(sample, tmp_path)
    assert values["budget"] == "smoke", "the sample's first run is a small one"
    for path in ("baseline", "spec"):
        if values.get(path):
            assert Path(values[path]).is_file(), f"the sample names a missing {path}"
    config = run_config({**values, "base_url": gateway_url, "rate": None})
    result = run(config)
    failing = [c.check_id for c in result.checks if c.status == "failed"]
    assert decide(result).exit_code == 0, failing


def test_the_python_sample_runs_against_the_reference_gateway(gateway_url: str) -> None:
    pytest.importorskip("openai")
    (sample,) = blocks("python")
    assert "http://127.0.0.1:8080" in sample
    code = sample.replace("http://127.0.0.1:8080", gateway_url)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own sample
    assert namespace["client"].base_url.host == "127.0.0.1"


def test_install_lines_name_this_version_and_real_extras() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    extras = set(pyproject["project"]["optional-dependencies"])
    wheels = set(re.findall(r"gateway_conformance-([\d.]+)-py3-none-any\.whl", README))
    assert wheels == {__version__}
    named = set(re.findall(r"gateway[-_]conformance[^\s\[]*\[(\w+)\]", README))
    named |= set(re.findall(r"'\.\[(\w+)\]'", README))
    assert named and named <= extras, named - extras
    assert "pip install gateway-conformance\n" not in README, "not on any index"


def _readme_tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_tables", ROOT / "scripts/readme_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_numbers_are_the_codes() -> None:
    from conformance.sdk_probe import sdk_installed

    if not sdk_installed():
        pytest.skip("the README's numbers include the SDK's probes: install the sdk extra")
    tables = _readme_tables()
    assert tables.rendered(README) == README, "the README's numbers drifted: run `make docs`"


def test_the_action_sample_passes_only_inputs_the_action_takes() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    inputs = set(action["inputs"])
    used: list[set[str]] = []
    for body in blocks("yaml"):
        for job in (yaml.safe_load(body).get("jobs") or {}).values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("OWNER/gateway-conformance"):
                    used.append(set(step.get("with", {})))
    assert used, "the README shows the action in use"
    for given in used:
        assert given <= inputs, given - inputs
