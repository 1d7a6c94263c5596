"""One dialect for every consumer: OpenAPI 3.0 schemas rewritten as JSON Schema 2020-12.

OpenAPI 3.0 schema objects are a JSON Schema draft-4 variant: `nullable: true` allows null,
`exclusiveMinimum: true` makes `minimum` exclusive, `example` holds one example. The planner,
the checks and the validators read 2020-12 only, so each resolved 3.0 schema node is rewritten
here: `type` gains "null" (or the schema becomes `anyOf` with `{"type": "null"}`), the boolean
bounds become numbers, `example` becomes `examples`. A 3.1 document is 2020-12 already; only its
deprecated `example` is carried over to `examples`.
"""

from __future__ import annotations

from typing import Any

NULL = {"type": "null"}
ANNOTATIONS = (
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
)
"""Keywords that assert nothing: they stay outside when a nullable schema is wrapped in
`anyOf`, and a `$ref`'s sibling annotation may replace its target's."""


def dialect_of(document: dict[str, Any]) -> str:
    """ "3.0" or "3.1": how the document's schemas are to be read."""
    return "3.0" if str(document.get("openapi", "")).startswith("3.0") else "3.1"


def normalise_schema(schema: dict[str, Any], dialect: str) -> dict[str, Any]:
    """`schema` (one node, children already normalised) in JSON Schema 2020-12."""
    out = dict(schema)
    if "example" in out:
        example = out.pop("example")
        out.setdefault("examples", [example])
    if dialect != "3.0":
        return out
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    nullable = out.pop("nullable", False)
    if nullable is not True:
        return out
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(kind, list):
        out["type"] = kind if "null" in kind else [*kind, "null"]
        return out
    outside = {k: out.pop(k) for k in ANNOTATIONS if k in out}
    return {"anyOf": [out, dict(NULL)], **outside} if out else out | outside
