"""Inline the `$ref`s of a document part."""

from __future__ import annotations

from typing import Any

from conformance.errors import SpecError


def resolve(node: Any, root: dict[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """Inline local `$ref`s ("#/...") of `node` against `root`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in _seen:
                raise SpecError(f"recursive $ref {ref} is not supported")
            target = resolve(_follow(ref, root), root, (*_seen, ref))
            siblings = {k: resolve(v, root, _seen) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings} if isinstance(target, dict) else target
        return {k: resolve(v, root, _seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root, _seen) for v in node]
    return node


def _follow(ref: str, root: dict[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise SpecError(f"only local $refs are supported, got {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SpecError(f"unresolvable $ref {ref}")
        node = node[part]
    return node
