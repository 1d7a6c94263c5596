"""Read an OpenAPI document (YAML or JSON) from a file, a URL or the package."""

from __future__ import annotations

import copy
import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import SpecError
from conformance.spec.document import Spec
from conformance.spec.findings import validate_document as _validate_document

DEFAULT_SPEC_NAME = "bifrost-azure-images.yaml"
DEFAULT_SPEC = resources.files("conformance").joinpath("specs", DEFAULT_SPEC_NAME)
"""The bundled default document: package data, so an installed wheel finds it from any cwd."""


def load_spec(location: str | Path | None = None, *, validate: bool = True) -> Spec:
    """Read a spec from a path or http(s) URL (YAML or JSON; a ```yaml block in Markdown works);
    without one, the document bundled with the package.

    `validate=False` skips the OpenAPI validation (about a second of imports) for commands
    that only read the document, such as listing the catalogue."""
    if location is None or str(location) == "":
        where, text = str(DEFAULT_SPEC), DEFAULT_SPEC.read_text(encoding="utf-8")
    else:
        where = str(location)
        text = _read(where)
    raw = _parse(text, where)
    if validate:
        _validate_document(raw, where)
    spec = Spec(raw=raw, source=where, sha256=hashlib.sha256(text.encode()).hexdigest())
    spec.operation  # noqa: B018 - fail early (exit 2) when the operation is missing
    return spec


def spec_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Spec:
    """A spec built from an in-memory document (used by tests that edit the spec)."""
    _validate_document(raw, source)
    text = yaml.safe_dump(raw, sort_keys=True)
    return Spec(
        raw=copy.deepcopy(raw), source=source, sha256=hashlib.sha256(text.encode()).hexdigest()
    )


def _read(where: str) -> str:
    if re.match(r"^https?://", where):
        import httpx

        try:
            resp = httpx.get(where, timeout=10.0, follow_redirects=True)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise SpecError(f"cannot fetch spec {where}: {exc}") from exc
        return resp.text
    path = Path(where)
    if not path.exists():
        raise SpecError(f"no such file: {where}")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec {where}: {exc.__class__.__name__}") from exc


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: parsing the bundled spec takes a tenth of the time."""


def _parse(text: str, where: str) -> dict[str, Any]:
    block = re.search(r"^(`{3,})ya?ml[^\n]*\n(.*?)^\1", text, re.S | re.M)
    if block:
        text = block.group(2)
    try:
        raw = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise SpecError(f"spec {where} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"spec {where} is not an OpenAPI document")
    return raw
