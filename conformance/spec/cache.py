"""The resolved operation of a document, kept by the document's content hash.

Parsing OpenAI's 3 MB of YAML takes seconds; the operation the suite tests is a few kilobytes.
So the first load of a document stores that operation (and its notes) as JSON under the user's
cache directory, and every later load of the same bytes (by the same code) reads it back
instead of parsing. Files
the document refers to are part of the key: their hashes are checked on every hit. Documents
that refer to URLs are not stored (their parts could change unseen). `CONFORMANCE_CACHE_DIR`
moves the cache; `CONFORMANCE_CACHE_DIR=off` turns it off. Any trouble reading or writing the
cache is a miss, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance import __version__

FORMAT = 1
"""Bumped whenever the shape of what is stored changes."""
ENV = "CONFORMANCE_CACHE_DIR"
MEMORY_ENTRIES = 64
"""Entries kept in this process (the oldest goes first): bounded for processes, such as test
runs, that load hundreds of edited documents."""
_MEMORY: dict[str, str] = {}


def key(sha256: str, selector: str | None, validate: bool) -> str:
    """The entry for a document's bytes, as this code resolves them: a change to the spec
    layer's own source (how documents are read) is a new key, never a stale answer."""
    text = f"{FORMAT}|{__version__}|{_code()}|{sha256}|{selector or ''}|{int(validate)}"
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _code() -> str:
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def directory() -> Path | None:
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gateway-conformance" / "spec"


def get(entry_key: str) -> dict[str, Any] | None:
    """The stored entry, if there is one and the files it was resolved from are unchanged."""
    text = _MEMORY.get(entry_key)
    if text is None:
        folder = directory()
        if folder is None:
            return None
        try:
            text = (folder / f"{entry_key}.json").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    try:
        entry = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entry, dict) or not _files_unchanged(entry.get("files") or {}):
        return None
    _remember(entry_key, text)
    return entry


def put(entry_key: str, entry: dict[str, Any], persist: bool = True) -> None:
    """Store `entry` in this process, and (`persist`) on disk when its files are all local."""
    try:
        text = json.dumps(entry)  # key order kept: the plan follows the document's field order
    except (TypeError, ValueError):
        return  # a value JSON cannot hold (a YAML date): resolve again next time
    _remember(entry_key, text)
    folder = directory()
    if (
        not persist
        or folder is None
        or any(not uri.startswith("file:") for uri in entry.get("files") or {})
    ):
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, folder / f"{entry_key}.json")
    except OSError:
        return


def _remember(entry_key: str, text: str) -> None:
    _MEMORY.pop(entry_key, None)
    _MEMORY[entry_key] = text
    while len(_MEMORY) > MEMORY_ENTRIES:
        _MEMORY.pop(next(iter(_MEMORY)))


def file_hash(uri: str) -> str | None:
    """The sha256 of a local file named by a `file:` URI (None when it cannot be read)."""
    try:
        return hashlib.sha256(Path(unquote(urlsplit(uri).path)).read_bytes()).hexdigest()
    except OSError:
        return None


def _files_unchanged(files: dict[str, str]) -> bool:
    return all(uri.startswith("file:") and file_hash(uri) == sha for uri, sha in files.items())
