"""A loaded OpenAPI document and the operation the suite tests in it.

The operation is resolved once per document content (`cache`): a later load of the same bytes
reads the resolved operation back without parsing the document again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import cached_property
from typing import Any

from conformance.errors import SpecError
from conformance.spec.operation import KeyPlacement, Operation, Parameter


class Spec:
    """A loaded OpenAPI document: `raw` is parsed on first use; `operation` is the operation
    under test (`selector`, else the image operation found by its shape)."""

    def __init__(
        self,
        raw: dict[str, Any] | None = None,
        source: str = "<dict>",
        sha256: str = "",
        *,
        base_uri: str = "",
        selector: str | None = None,
        validate: bool = True,
        data: bytes | None = None,
    ) -> None:
        self.source = source
        self.sha256 = sha256
        self.base_uri = base_uri
        self.selector = selector
        self.validate = validate
        self.notes: list[str] = []
        """Findings outside the operation under test: reported, never fatal."""
        self._raw = raw
        self._data = data
        self._persist = data is not None
        self._info: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Spec(source={self.source!r}, sha256={self.sha256[:12]!r})"

    @property
    def raw(self) -> dict[str, Any]:
        """The document as parsed (not resolved)."""
        if self._raw is None:
            from conformance.spec.load import parse_document

            self._raw = parse_document(self._data or b"", self.source)
            self._data = None
        return self._raw

    @property
    def title(self) -> str:
        return self._info.get("title") or str((self.raw.get("info") or {}).get("title", "untitled"))

    @property
    def version(self) -> str:
        if "version" in self._info:
            return self._info["version"]
        return str((self.raw.get("info") or {}).get("version", ""))

    @property
    def dialect(self) -> str:
        return self.operation.dialect

    @cached_property
    def operation(self) -> Operation:
        from conformance.spec import cache

        entry_key = cache.key(self.sha256, self.selector, self.validate)
        entry = cache.get(entry_key) if self.sha256 else None
        if entry is None:
            entry = self._resolve()
            if self.sha256:
                cache.put(entry_key, entry, persist=self._persist)
        self.notes = list(entry["notes"])
        self._info = dict(entry["info"])
        return _operation(entry["operation"])

    def _resolve(self) -> dict[str, Any]:
        from conformance.spec.dialect import dialect_of
        from conformance.spec.load import read_bytes
        from conformance.spec.resolve import Inliner
        from conformance.spec.selection import build_operation, choose

        raw = self.raw
        inliner = Inliner(raw, self.base_uri, _retriever(read_bytes), dialect_of(raw))
        skipped: list[str] = []
        at = "#/paths"
        try:
            chosen = choose(raw, self.source, self.selector, inliner, skipped)
            at = chosen.pointer
            op = build_operation(raw, chosen, inliner)
            notes = [f"spec {self.source}: {why}" for why in skipped]
            if self.validate:
                notes += self._check(raw, op, inliner.visited, chosen.pointer)
        except RecursionError:
            raise SpecError(f"spec {self.source}: {at}: nested too deeply to read") from None
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            # A part of the document is not the kind of object OpenAPI puts there.
            why = f"not an OpenAPI operation the suite can read ({type(exc).__name__}: {exc})"
            raise SpecError(f"spec {self.source}: {at}: {why}") from None
        from conformance.spec import cache

        files = {uri: cache.file_hash(uri) or "" for uri in sorted(inliner.files)}
        info = {
            "title": str((raw.get("info") or {}).get("title", "untitled")),
            "version": str((raw.get("info") or {}).get("version", "")),
        }
        return {"operation": _entry(op), "notes": notes, "info": info, "files": files}

    def _check(self, raw: dict[str, Any], op: Operation, visited: set[str], at: str) -> list[str]:
        """Findings outside the operation as notes; the first inside it as a `SpecError`."""
        from conformance.spec.findings import document_findings, inside, schema_findings

        own = self.base_uri + "#"
        places = {at} | {"#" + v.removeprefix(own) for v in visited if v.startswith(own)}
        places.discard(at.rsplit("/", 1)[0])  # the path item: other methods are not ours
        for finding in schema_findings(op):
            raise SpecError(f"spec {self.source}: {finding}")
        notes: list[str] = []
        for finding in document_findings(raw):
            if inside(finding, places):
                raise SpecError(f"spec {self.source}: {finding}")
            notes.append(f"spec {self.source}: {finding} (outside the operation under test)")
        return notes

    def standalone(self) -> dict[str, Any]:
        """The operation under test as an OpenAPI 3.1 document of its own (`standalone`)."""
        from conformance.spec.standalone import standalone_document

        return standalone_document(self.operation, self.title, self.version)

    def with_operation(self, op: Operation, raw: dict[str, Any], source: str) -> Spec:
        """This document with `op` as its operation under test (a narrowed copy), `raw` as
        its text and `source` as its name."""
        text = json.dumps(raw, sort_keys=True, default=str) + json.dumps(_entry(op), default=str)
        twin = Spec(
            raw,
            source,
            hashlib.sha256(text.encode()).hexdigest(),
            base_uri=self.base_uri,
            selector=self.selector,
            validate=False,
        )
        twin.__dict__["operation"] = op
        twin.notes = list(self.notes)
        twin._info = dict(self._info)
        return twin

    def find_operation(self, path_suffix: str, method: str) -> Operation:
        """The `method` operation whose path ends in `path_suffix`."""
        from conformance.spec.selection import operations

        for c in operations(self.raw, self.source):
            if c.method == method and c.path.endswith(path_suffix):
                selected = Spec(
                    self._raw,
                    self.source,
                    self.sha256,
                    base_uri=self.base_uri,
                    selector=f"{c.method.upper()} {c.path}",
                )
                return selected.operation
        raise SpecError(
            f"spec {self.source}: no {method.upper()} operation ending in {path_suffix!r}"
        )


def _retriever(read: Any) -> Any:
    def retrieve(uri: str) -> Any:
        from conformance.spec.load import parse

        return parse(read(uri), uri)

    return retrieve


def _entry(op: Operation) -> dict[str, Any]:
    fields = asdict(op)
    for memo in _MEMOS:
        fields.pop(memo, None)
    return fields


def _operation(fields: dict[str, Any]) -> Operation:
    values = dict(fields)
    values["parameters"] = [Parameter(**p) for p in values["parameters"]]
    values["key"] = KeyPlacement(**values["key"])
    for memo in _MEMOS:
        values.pop(memo, None)
    return Operation(**values)


_MEMOS = ("_validators", "_response_fields")
"""An operation's memos of this process (validators, field views): never stored."""
