"""Inline the `$ref`s of one part of a document, across files, with `referencing`.

`referencing` finds what a `$ref` points to (relative URIs, JSON Pointer escapes `~0` `~1`,
percent-encoding, other files and URLs through `retrieve`); this module walks the part under
test, inlines each target and normalises every schema to JSON Schema 2020-12 (`dialect`).

A schema that refers back to itself through an instance location (a tree whose children are
trees) stays bounded: the second visit becomes `{"$ref": "#/$defs/NAME"}` and the expansion is
kept once in `$defs` at the root of that schema (which gets an `$id`, so the reference holds
wherever the schema is placed), which any 2020-12 validator follows. A cycle
that never moves to a child instance (`A: {$ref: B}`, `B: {allOf: [{$ref: A}]}`) has no base
case and is a `SpecError` naming where it closes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from conformance.errors import SpecError
from conformance.spec.dialect import ANNOTATIONS, normalise_schema
from conformance.spec.pointer import escape_pointer

MAX_NODES = 2_000_000
"""Nodes one resolution may produce: a document that expands past it is refused, not walked."""
MAX_FILES = 500
"""Documents one resolution may read: `$ref`s into more files than this are refused."""

SCHEMA_ROOTS = ("schema", "itemSchema")
"""Keys of OpenAPI objects whose value is a schema (media types, parameters, headers)."""
LITERAL = frozenset({"example", "value"})
"""Keys of OpenAPI objects whose values are data, never walked for `$ref`s (an Example's
`value`); `examples` maps names to Example objects, which may be `$ref`s."""
SCHEMA_LITERAL = frozenset({"example", "examples", "const", "default", "enum"})
"""Schema keywords whose values are data."""
_IN_PLACE_ONE = ("not", "if", "then", "else")
_IN_PLACE_LIST = ("allOf", "anyOf", "oneOf")
_IN_PLACE_MAP = ("dependentSchemas",)
_CHILD_ONE = (
    "items",
    "contentSchema",  # an SSE item's `data` payload (OpenAPI 3.2 itemSchema)
    "additionalProperties",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_CHILD_LIST = ("prefixItems",)
_CHILD_MAP = ("properties", "patternProperties")
_DROPPED = ("$defs", "definitions")
"""Local definitions: every `$ref` into them is inlined, so they are not carried along."""

Resolver = Any
"""A `referencing` resolver (its class is not part of the package's public names)."""
Retrieve = Callable[[str], Any]
"""Reads and parses the document at an absolute URI (no fragment)."""


@dataclass
class _Root:
    """Bookkeeping for one schema root: the recursive targets kept in its `$defs`."""

    names: dict[str, str] = field(default_factory=dict)
    defs: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)


class Inliner:
    """Resolves parts of one document; remembers every place it visited (for findings) and
    every file it read (for the cache)."""

    def __init__(self, root: Any, base_uri: str, retrieve: Retrieve, dialect: str) -> None:
        self.base_uri = base_uri
        self.dialect = dialect
        self.visited: set[str] = set()
        self.files: set[str] = set()
        self._retrieve_doc = retrieve
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        registry = registry.with_resource(base_uri, _resource(root))
        self._resolver = registry.resolver(base_uri)
        self._stack: list[tuple[str, int]] = []
        self._depth = 0
        self._nodes = 0
        self._root: _Root | None = None

    def at(self, pointer: str) -> Any:
        """The resolved value at `pointer` ("#/paths/...") of the document."""
        where = f"{self.base_uri}{pointer}"
        resolved = _lookup(pointer, self._resolver, where)
        self.visited.add(where)
        return self._value(resolved.contents, resolved.resolver, where)

    def raw_at(self, pointer: str) -> Any:
        """The value at `pointer` as written (refs not followed)."""
        return _lookup(pointer, self._resolver, f"{self.base_uri}{pointer}").contents

    def follow(self, node: Any, resolver: Resolver | None = None) -> tuple[Any, Any]:
        """`node` with its `$ref` chain followed (one level at a time), and the resolver for
        what it holds: for cheap look-ahead without inlining."""
        resolver = resolver or self._resolver
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            target = _absolute(ref, resolver)
            if target in seen or len(seen) > 64:
                return {}, resolver
            seen.add(target)
            try:
                found = resolver.lookup(ref)
            except (Unresolvable, SpecError):
                return {}, resolver
            node, resolver = found.contents, found.resolver
        return node, resolver

    # -- walking ----------------------------------------------------------------------------

    def _value(self, node: Any, resolver: Resolver, where: str) -> Any:
        """An OpenAPI object (operation, parameter, media type, example...): refs inlined."""
        self._count(where)
        if isinstance(node, list):
            return [self._value(v, resolver, f"{where}/{i}") for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            return self._follow_ref(node, resolver, where, self._value)
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = f"{where}/{escape_pointer(str(key))}"
            if key in SCHEMA_ROOTS and isinstance(value, dict | bool):
                out[key] = self._schema_root(value, resolver, here)
            elif key in LITERAL:
                out[key] = value
            else:
                out[key] = self._value(value, resolver, here)
        return out

    def _schema_root(self, node: Any, resolver: Resolver, where: str) -> Any:
        outer, self._root = self._root, _Root()
        try:
            schema = self._schema(node, resolver, where)
            if self._root.defs and isinstance(schema, dict):
                # `$id` makes the schema a resource of its own, so `#/$defs/...` means its own
                # `$defs` also where it sits inside a larger document.
                name = hashlib.sha256(where.encode()).hexdigest()[:16]
                defs = {**schema.get("$defs", {}), **self._root.defs}
                schema = {"$id": f"urn:conformance:schema:{name}", **schema, "$defs": defs}
            return schema
        finally:
            self._root = outer

    def _schema(self, node: Any, resolver: Resolver, where: str) -> Any:
        self._count(where)
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            return self._schema_ref(node, resolver, where)
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = f"{where}/{escape_pointer(str(key))}"
            if key in _DROPPED or key in SCHEMA_LITERAL:
                if key in SCHEMA_LITERAL:
                    out[key] = value
                continue
            child = key in _CHILD_ONE or key in _CHILD_LIST or key in _CHILD_MAP
            self._depth += child
            try:
                if key in _IN_PLACE_ONE or key in _CHILD_ONE:
                    out[key] = self._schema(value, resolver, here)
                elif (key in _IN_PLACE_LIST or key in _CHILD_LIST) and isinstance(value, list):
                    out[key] = [
                        self._schema(v, resolver, f"{here}/{i}") for i, v in enumerate(value)
                    ]
                elif (key in _IN_PLACE_MAP or key in _CHILD_MAP) and isinstance(value, dict):
                    out[key] = {
                        k: self._schema(v, resolver, f"{here}/{escape_pointer(str(k))}")
                        for k, v in value.items()
                    }
                elif key == "items" and isinstance(value, list):  # 3.0 tuple form
                    out[key] = [
                        self._schema(v, resolver, f"{here}/{i}") for i, v in enumerate(value)
                    ]
                else:
                    out[key] = value
            finally:
                self._depth -= child
        return normalise_schema(out, self.dialect)

    def _schema_ref(self, node: dict[str, Any], resolver: Resolver, where: str) -> Any:
        target = _absolute(node["$ref"], resolver)
        root = self._root
        if root is not None and target in root.memo:
            resolved: Any = root.memo[target]
        else:
            for seen, depth in self._stack:
                if seen == target:
                    if depth == self._depth:
                        raise SpecError(
                            f"spec {_display(where)}: $ref {node['$ref']!r} closes a cycle "
                            "with no base case (it never reaches a child value)"
                        )
                    return self._recursive(target)
            resolved = self._follow_ref(node, resolver, where, self._schema, check_cycle=False)
            if root is not None:
                root.memo[target] = resolved
                if target in root.names:
                    root.defs[root.names[target]] = resolved
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        # 3.0 ignores what stands beside a $ref. In 3.1 the siblings apply too: merged when
        # they share only annotations with the target, else both, as an `allOf`.
        if not siblings or self.dialect == "3.0":
            return resolved
        extra = self._schema(siblings, resolver, where)
        if isinstance(resolved, dict) and set(extra) & set(resolved) <= set(ANNOTATIONS):
            return {**resolved, **extra}  # a sibling annotation (description...) wins
        return {"allOf": [resolved], **extra}

    def _recursive(self, target: str) -> dict[str, Any]:
        """A reference back to a schema being expanded: kept once under the root's `$defs`."""
        root = self._root
        if root is None:  # pragma: no cover - schemas are always walked under a root
            raise SpecError(f"spec {_display(target)}: recursive $ref outside a schema")
        name = root.names.get(target)
        if name is None:
            stem = urldefrag(target)[1].rsplit("/", 1)[-1] or "root"
            name = stem if stem not in root.defs and stem not in root.names.values() else ""
            name = name or f"{stem}_{len(root.names)}"
            root.names[target] = name
            root.defs.setdefault(name, {})
        return {"$ref": f"#/$defs/{escape_pointer(name)}"}

    def _follow_ref(
        self,
        node: dict[str, Any],
        resolver: Resolver,
        where: str,
        walk: Callable[[Any, Resolver, str], Any],
        check_cycle: bool = True,
    ) -> Any:
        ref = node["$ref"]
        target = _absolute(ref, resolver)
        if check_cycle and any(seen == target for seen, _ in self._stack):
            raise SpecError(f"spec {_display(where)}: $ref {ref!r} refers back to itself")
        found = _lookup(ref, resolver, where)
        self.visited.add(target)
        self._stack.append((target, self._depth))
        try:
            return walk(found.contents, found.resolver, target)
        finally:
            self._stack.pop()

    # -- looking up -------------------------------------------------------------------------

    def _retrieve(self, uri: str) -> Resource[Any]:
        if len(self.files) >= MAX_FILES:
            raise SpecError(f"spec {_display(uri)}: $refs into more than {MAX_FILES} files")
        self.files.add(uri)
        return _resource(self._retrieve_doc(uri))

    def _count(self, where: str) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise SpecError(
                f"spec {_display(where)}: expands to more than {MAX_NODES:,} nodes; not read"
            )


def _lookup(ref: str, resolver: Resolver, where: str) -> Any:
    """What `ref` points to from `resolver`'s document, or a `SpecError` naming where it
    stands (and, for a file that cannot be read, that file and why)."""
    try:
        return resolver.lookup(ref)
    except SpecError:
        raise
    except Unresolvable as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, SpecError):
            cause = cause.__cause__
        if isinstance(cause, SpecError):
            raise SpecError(f"{cause} (from $ref {ref!r} at {_display(where)})") from None
        why = "points to nothing" if _is_pointer_miss(exc) else "cannot be resolved"
        raise SpecError(f"spec {_display(where)}: $ref {ref!r} {why}") from None


def _absolute(ref: str, resolver: Resolver) -> str:
    """`ref` as an absolute URI with a decoded fragment: how the walk tells targets apart."""
    base = str(resolver._base_uri)  # noqa: SLF001 - referencing has no public getter for it
    uri, fragment = urldefrag(urljoin(base, ref))
    return f"{uri}#{unquote(fragment)}"


def _resource(contents: Any) -> Resource[Any]:
    """An OpenAPI document is no JSON Schema resource: `$id` and anchors are not its keywords."""
    return Specification.OPAQUE.create_resource(contents)


def _is_pointer_miss(exc: Unresolvable) -> bool:
    return type(exc).__name__ == "PointerToNowhere"


def _display(uri: str) -> str:
    """A URI as the user wrote its file: `file:` URIs become paths."""
    if uri.startswith("file:"):
        parts = urlsplit(uri)
        return unquote(parts.path) + (f"#{unquote(parts.fragment)}" if parts.fragment else "")
    return uri
