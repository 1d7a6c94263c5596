"""Installable anywhere: the wheel carries the spec, templates, schema and LICENSE, and its
`conformance` command works in a fresh virtual environment from an unrelated directory. Also
the GitHub Action's run step, invoked the way action.yml invokes it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "conformance")
SMALL_RUN = ("--budget", "smoke", "--max-examples", "2")
"""A whole run of the installed command, kept small: the smoke plan plus two random bodies
(drawn by hypothesis, which must write nothing into the working directory)."""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (the checkout stays clean), offline."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("gateway_conformance-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only the wheel; its dependencies come from this interpreter's
    site-packages (a .pth line), so nothing is downloaded."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        + ["--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        env=clean_env(),
    ).stdout.strip()
    shared = sysconfig.get_paths()["purelib"]
    Path(purelib, "shared-deps.pth").write_text(shared + "\n")
    yield home / "bin"


def test_wheel_carries_package_data_license_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "conformance/specs/bifrost-azure-images.yaml",
        "conformance/schemas/results.schema.json",
        "conformance/report/templates/report.html.j2",
        "conformance/py.typed",
        "conformance/specs/third_party/openai/openapi.yaml",
        "conformance/specs/third_party/openai/openapi-3.0.yaml",
        "conformance/specs/third_party/openai/LICENSE",
        "conformance/specs/third_party/azure/inference.json",
        "conformance/specs/third_party/azure/examples/image_generation.json",
        "conformance/specs/third_party/azure/SOURCE.md",
        "conformance/specs/third_party/bifrost/openapi.yaml",
        "conformance/specs/third_party/bifrost/schemas/inference/common.yaml",
        "conformance/specs/third_party/bifrost/paths/inference/images.yaml",
    ):
        assert needed in names, needed
    vendored = ROOT / "conformance" / "specs" / "third_party"
    for path in vendored.rglob("*"):
        if path.is_file():  # every vendored file, so multi-file refs resolve when installed
            assert path.relative_to(ROOT).as_posix() in names, path
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "conformance = conformance.cli:main" in text
    assert "conformance = conformance.pytest_plugin" in text
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))
    )
    assert b"License-Expression: Apache-2.0" in metadata


def test_installed_command_works_from_an_unrelated_directory(
    installed: Path, tmp_path: Path
) -> None:
    where = tmp_path / "elsewhere"
    where.mkdir()
    conformance = str(installed / "conformance")
    env = clean_env()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [conformance, *args], capture_output=True, text=True, timeout=300, cwd=where, env=env
        )

    listed = run("checks")
    assert listed.returncode == 0, listed.stderr
    assert "IMG-COUNT" in listed.stdout
    for name in ("openai", "azure", "bifrost"):  # the vendored documents, by name
        named = run("checks", "--spec", name)
        assert named.returncode == 0, (name, named.stderr)

    done = run("run", *SMALL_RUN, "--report-dir", "out", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("CONFORMANT")
    assert sorted(p.name for p in (where / "out").iterdir()) == [
        "junit.xml",
        "report.html",
        "results.json",
        "summary.md",
    ]
    source = (where / "out" / "results.json").read_text()
    assert str(ROOT) not in source  # the installed copy ran, not this checkout

    served = subprocess.Popen(
        [conformance, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=where,
        env=env,
    )
    try:
        assert served.stdout is not None
        first = served.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        against = run("run", "--base-url", url.group(0), *SMALL_RUN, "--report-dir", "served")
        assert against.returncode == 0, against.stdout + against.stderr
    finally:
        served.terminate()
        served.wait(15)
    assert sorted(p.name for p in where.iterdir()) == ["out", "served"]  # no .hypothesis


def action_step(inputs: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The run step of action.yml with `inputs` (others at their defaults) substituted."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    step = next(s for s in action["runs"]["steps"] if "action-run.sh" in s["run"])

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], text)

    return step["run"], {name: fill(str(value)) for name, value in step["env"].items()}


def test_action_run_step_invokes_conformance_run(tmp_path: Path) -> None:
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "conformance").write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m conformance.cli "$@"\n'
    )
    (shim / "conformance").chmod(0o755)
    step_summary = tmp_path / "step-summary.md"
    command, env = action_step(
        {
            "api-key": "sk-action-secret-0001",
            "narrow": "n<=1\n  stream=false  \n",
            "strict": "true",
            "report-dir": str(tmp_path / "reports"),
            "extra-args": "--max-examples 2 --seed 3 --header 'x-note: two words'",
        }
    )
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=clean_env(
            **env,
            GITHUB_ACTION_PATH=str(ROOT),
            GITHUB_STEP_SUMMARY=str(step_summary),
            PATH=f"{shim}:{os.environ['PATH']}",
        ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    import json

    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert results["strict"] is True and results["seed"] == 3
    assert "narrowed: n<=1; stream=false" in results["spec_source"]
    assert step_summary.read_text().startswith("## Gateway conformance: CONFORMANT")
    everything = (
        done.stdout + done.stderr + "".join(p.read_text() for p in (tmp_path / "reports").iterdir())
    )
    assert "sk-action-secret-0001" not in everything


def test_action_strict_input_is_checked(tmp_path: Path) -> None:
    command, env = action_step({"strict": "maybe"})
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(**env, GITHUB_ACTION_PATH=str(ROOT)),
    )
    assert done.returncode == 2 and "strict must be true or false" in done.stderr
