"""Run settings from a file: `conformance.toml`, or `[tool.conformance]` in `pyproject.toml`.

The keys are the names of the `OPTIONS` table (`base_url`, `narrow`, `max_requests`, ...; a
dash may stand for the underscore), so a file says what the flags say and flags win over it.
`[profiles.NAME]` tables define target profiles of one's own (`conformance.profiles`), which
`profile = "NAME"` or `--profile NAME` then chooses.
An unknown key or a value of the wrong type is a usage error naming the key. Relative paths
(`spec`, `baseline`) are read from the file's directory. The CLI (`--config FILE`, else the
current directory) and the pytest plugin (`--gateway-config FILE`, else the current directory)
read the same file.
"""

from __future__ import annotations

import argparse
import difflib
import tomllib
from pathlib import Path
from typing import Any

from conformance.config import OPTIONS, Option
from conformance.errors import UsageError
from conformance.profiles import PROFILES_KEY, Profile, ProfileError, custom_profile

CONFIG_FILE = "conformance.toml"
PYPROJECT = "pyproject.toml"
_BY_NAME = {o.name: o for o in OPTIONS}
_PATHS = ("spec", "baseline")


def find_config(explicit: Path | str | None = None, cwd: Path | None = None) -> Path | None:
    """The configuration file a run reads: `explicit`, else `conformance.toml` in `cwd`, else
    `pyproject.toml` in `cwd` when it has a `[tool.conformance]` table; None when there is none."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        return path
    cwd = cwd or Path.cwd()
    own = cwd / CONFIG_FILE
    if own.is_file():
        return own
    pyproject = cwd / PYPROJECT
    if pyproject.is_file() and "conformance" in _read(pyproject).get("tool", {}):
        return pyproject
    return None


def load_config(path: Path) -> dict[str, Any]:
    """The settings of the file at `path`: option name -> value, as the flags would give them."""
    document = _read(path)
    table = document.get("tool", {}).get("conformance", {}) if path.name == PYPROJECT else document
    where = f"{path} [tool.conformance]" if path.name == PYPROJECT else str(path)
    if not isinstance(table, dict):
        raise UsageError(f"{where}: expected a table of settings")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == PROFILES_KEY:
            values[PROFILES_KEY] = _profiles(value, where)
            continue
        name = key.replace("-", "_")
        option = _BY_NAME.get(name)
        if option is None:
            close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"{where}: unknown key {key!r}{hint}")
        values[name] = _value(option, value, f"{where}: {key}")
        if name in _PATHS and isinstance(values[name], str | Path):
            values[name] = _relative_to(path.parent, values[name])
    return values


def _profiles(table: Any, where: str) -> dict[str, Profile]:
    """The custom profiles of a `[profiles.NAME]` table, by name."""
    if not isinstance(table, dict) or not all(isinstance(t, dict) for t in table.values()):
        raise UsageError(f"{where}: [{PROFILES_KEY}] must hold one table per profile")
    try:
        return {name: custom_profile(name, entry) for name, entry in table.items()}
    except ProfileError as exc:
        raise UsageError(f"{where}: {exc}") from None


def settings(explicit: Path | str | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """The settings of the configuration file a run reads (empty without one)."""
    path = find_config(explicit, cwd)
    return load_config(path) if path else {}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc


def _value(option: Option, value: Any, where: str) -> Any:
    """`value` from TOML as the flag would have parsed it."""
    if option.action == "store_true":
        if not isinstance(value, bool):
            raise UsageError(f"{where}: expected true or false, got {value!r}")
        return value
    if option.action == "append":
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str | int | float) and not isinstance(i, bool) for i in items):
            raise UsageError(f"{where}: expected a string or a list of strings, got {value!r}")
        return [str(i) for i in items]
    if isinstance(value, bool | dict | list):
        raise UsageError(f"{where}: expected a single value, got {value!r}")
    if option.type is None:
        return str(value)
    try:
        return option.type(str(value))
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None


def _relative_to(base: Path, value: str | Path) -> str | Path:
    text = str(value)
    if "://" in text or Path(text).is_absolute():
        return value
    resolved = base / text
    return resolved if isinstance(value, Path) else str(resolved)
