"""Read an OpenAPI document (YAML or JSON) from a file, a URL or the package, within bounds.

Every read is bounded in size and (for URLs) in time, so a huge file or a server that never
answers ends as one `SpecError` line within seconds, never as a hang or a traceback.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from conformance.errors import SpecError
from conformance.spec.document import Spec

DEFAULT_SPEC_NAME = "bifrost-azure-images.yaml"
DEFAULT_SPEC = resources.files("conformance").joinpath("specs", DEFAULT_SPEC_NAME)
"""The bundled default document: package data, so an installed wheel finds it from any cwd."""
THIRD_PARTY = resources.files("conformance").joinpath("specs", "third_party")
"""Vendors' own documents, pinned with their licenses and sources (package data too)."""
NAMED_SPECS = {
    "openai": "openai/openapi.yaml",
    "openai-3.0": "openai/openapi-3.0.yaml",
    "azure": "azure/inference.json",
    "bifrost": "bifrost/openapi.yaml",
}
"""`--spec NAME` for the vendored documents, so they work from an installed wheel: a file of
that name in the current directory still wins."""
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""The largest document (or referenced file) read: OpenAI's whole API is 3 MB of YAML."""
FETCH_TIMEOUT_S = 10.0
"""Connect, read and total deadline for a document fetched over http(s)."""
MAX_OPERATIONS = 2000
"""More operations than this is no API description the suite can test (OpenAI's whole API
has a few hundred); refused. Text with more than twice as many method keys is refused before
it is parsed, so a generated monster costs no parse time."""
_METHOD_KEY = re.compile(
    rb"^[ \t]*[\"']?(?:get|put|post|delete|options|head|patch|trace)[\"']?[ \t]*:", re.M
)


def load_spec(
    location: str | Path | None = None,
    *,
    validate: bool = True,
    operation: str | None = None,
) -> Spec:
    """Read a spec from a path or http(s) URL (YAML or JSON; a ```yaml block in Markdown works);
    without one, the document bundled with the package. `operation` chooses the operation under
    test (an operationId or 'METHOD /path'); without it the image operation is found by shape.

    `validate=False` skips the OpenAPI validation for commands that only read the document,
    such as listing the catalogue."""
    if location is None or str(location) == "":
        where, data = str(DEFAULT_SPEC), DEFAULT_SPEC.read_bytes()
    else:
        where = named_spec(str(location))
        data = read_bytes(where)
    spec = Spec(
        source=where,
        sha256=hashlib.sha256(data).hexdigest(),
        base_uri=base_uri(where),
        selector=operation,
        validate=validate,
        data=data,
    )
    spec.operation  # noqa: B018 - fail early (exit 2) when the operation is missing
    return spec


def named_spec(location: str) -> str:
    """The path of a vendored document named by `NAMED_SPECS`, else `location` itself."""
    if location in NAMED_SPECS and not Path(location).exists():
        return str(THIRD_PARTY.joinpath(*NAMED_SPECS[location].split("/")))
    return location


def spec_from_dict(
    raw: dict[str, Any], source: str = "<dict>", operation: str | None = None
) -> Spec:
    """A spec built from an in-memory document (used by tests that edit the spec); relative
    `$ref`s are read from the current directory."""
    text = json.dumps(raw, sort_keys=True, default=str)
    return Spec(
        raw=copy.deepcopy(raw),
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        base_uri=(Path.cwd() / "document.yaml").as_uri(),
        selector=operation,
    )


def base_uri(where: str) -> str:
    """The absolute URI relative `$ref`s of the document at `where` are resolved against."""
    if _is_url(where):
        return where
    return Path(where).resolve().as_uri()


def read_bytes(where: str, limit: int | None = None) -> bytes:
    """The bytes of a file or http(s) URL, at most `limit` (default `MAX_DOCUMENT_BYTES`)."""
    limit = MAX_DOCUMENT_BYTES if limit is None else limit
    if _is_url(where):
        return _fetch(where, limit)
    if where.startswith("file:"):
        where = unquote(urlsplit(where).path)
    path = Path(where)
    if not path.is_file():
        raise SpecError(f"spec {where}: no such file")
    try:
        size = path.stat().st_size
        if size > limit:
            raise SpecError(f"spec {where}: {_mb(size)} is larger than the {_mb(limit)} limit")
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"spec {where}: cannot read it ({exc.strerror or exc})") from exc


def parse(data: bytes, where: str) -> Any:
    """The YAML or JSON value of `data` (JSON first: it is a tenth of YAML's time)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec {where}: not UTF-8 text (byte {exc.start})") from None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML is a superset: let it report the error
        except RecursionError:
            raise SpecError(f"spec {where}: nested too deeply to parse") from None
    block = re.search(r"^(`{3,})ya?ml[^\n]*\n(.*?)^\1", text, re.S | re.M)
    if block:
        text = block.group(2)
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"spec {where}: not valid YAML/JSON{at}: {problem}") from None
    except RecursionError:
        raise SpecError(f"spec {where}: nested too deeply to parse") from None


def parse_document(data: bytes, where: str) -> dict[str, Any]:
    """The OpenAPI 3.x document in `data`."""
    if len(_METHOD_KEY.findall(data)) > 2 * MAX_OPERATIONS:
        raise SpecError(
            f"spec {where}: #/paths: more than {MAX_OPERATIONS:,} operations; "
            "not an API description the suite can test"
        )
    raw = parse(data, where)
    if not isinstance(raw, dict):
        raise SpecError(f"spec {where}: not an OpenAPI document (a {type(raw).__name__})")
    version = str(raw.get("openapi", ""))
    if not version.startswith(("3.0", "3.1")):
        found = f"openapi: {version}" if version else "no `openapi` field"
        raise SpecError(f"spec {where}: #/openapi: not an OpenAPI 3.0 or 3.1 document ({found})")
    return raw


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: parsing the bundled spec takes a tenth of the time."""


def _is_url(where: str) -> bool:
    return re.match(r"^https?://", where, re.I) is not None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _fetch(url: str, limit: int) -> bytes:
    """GET `url` within `FETCH_TIMEOUT_S` in all and `limit` bytes."""
    import httpx

    deadline = time.monotonic() + FETCH_TIMEOUT_S
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.stream(
            "GET", url, timeout=FETCH_TIMEOUT_S, follow_redirects=True, trust_env=False
        ) as resp:
            if resp.status_code >= 400:
                raise SpecError(f"spec {url}: the server answered {resp.status_code}")
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise SpecError(f"spec {url}: larger than the {_mb(limit)} limit")
                if time.monotonic() > deadline:
                    raise SpecError(f"spec {url}: not read within {FETCH_TIMEOUT_S:g} s")
                chunks.append(chunk)
    except httpx.TimeoutException:
        raise SpecError(f"spec {url}: no answer within {FETCH_TIMEOUT_S:g} s") from None
    except httpx.HTTPError as exc:
        raise SpecError(f"spec {url}: cannot fetch it ({exc.__class__.__name__}: {exc})") from None
    return b"".join(chunks)
