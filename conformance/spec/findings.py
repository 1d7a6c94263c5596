"""Lenient validation: what is wrong with a document, and whether it touches the operation.

Real documents carry findings in schemas the suite never uses (OpenAI's and Azure's have a
duplicate `required` item, a `$recursiveAnchor`, a `required` name with no property in chat
schemas). A finding outside the operation under test is a note and the run goes on; a finding
inside it stops the run, named by its JSON pointer. The document is checked against the OpenAPI
schema (`openapi-spec-validator`), which names places in the document; the operation's resolved
schemas against the JSON Schema 2020-12 meta-schema, which names places in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.spec.pointer import escape_pointer

if TYPE_CHECKING:
    from conformance.spec.operation import Operation

MAX_FINDINGS = 50
"""Findings kept per document: enough to act on, bounded for documents that break everywhere."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong at one place of the document."""

    pointer: str
    """Where, as a JSON pointer fragment: `#/components/schemas/X/required`."""
    message: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


def document_findings(raw: dict[str, Any]) -> list[Finding]:
    """What the OpenAPI 3.0 / 3.1 schema finds wrong with `raw` (at most `MAX_FINDINGS`)."""
    from jsonschema.validators import validator_for
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
    from openapi_spec_validator.schemas import schema_v30, schema_v31

    version = str(raw.get("openapi", ""))
    is_30 = version.startswith("3.0")
    cls = OpenAPIV30SpecValidator if is_30 else OpenAPIV31SpecValidator
    oas = dict(schema_v30 if is_30 else schema_v31)
    explain = validator_for(oas)(oas)
    found: list[Finding] = []
    for error in cls(raw).schema_validator.iter_errors(raw):
        found.append(_explained(error, raw, oas, explain))
        if len(found) >= MAX_FINDINGS:
            break
    return found


def _explained(error: Any, raw: Any, oas: dict[str, Any], explain: Any) -> Finding:
    """The finding for `error`: a failed `oneOf` (a Schema or a Reference?) is validated again
    by jsonschema against the branch schema, to name the keyword and place actually at fault."""
    at = _pointer("#", error.absolute_path)
    path = list(error.absolute_schema_path)
    if path and path[-1] in ("oneOf", "anyOf"):
        from jsonschema.exceptions import best_match

        branch, instance = _at(oas, path[:-1]), _at(raw, list(error.absolute_path))
        try:
            inner = best_match(explain.evolve(schema=branch).iter_errors(instance))
        except Exception:  # noqa: BLE001 - an explanation is a bonus; the finding stands
            inner = None
        if inner is not None:
            return Finding(_pointer(at, inner.absolute_path), _short(inner.message))
    return Finding(at, _short(_without_instance(error.message)))


def _at(node: Any, path: list[Any]) -> Any:
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return {}
    return node


def _without_instance(message: str) -> str:
    """jsonschema-rs messages start with the whole instance as JSON: keep what follows."""
    first = message.split("\n", 1)[0]
    for marker in (" is not valid under any", " is not of type", " is not one of"):
        if first.startswith(("{", "[")) and marker in first:
            return "the value" + first[first.index(marker) :]
    return first


def schema_findings(op: Operation) -> list[Finding]:
    """What the 2020-12 meta-schema finds wrong with the operation's resolved schemas."""
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    places = [(op.request_pointer, op.request_schema)]
    for status, entries in op.responses.items():
        places += [(op.response_pointer(status, mt), s) for mt, s in entries.items()]
    found: list[Finding] = []
    for pointer, schema in places:
        for error in meta.iter_errors(schema):
            error = _precise(error)
            found.append(Finding(_pointer(pointer, error.absolute_path), _short(error.message)))
            if len(found) >= MAX_FINDINGS:
                return found
    return found


def inside(finding: Finding, places: set[str]) -> bool:
    """Whether `finding` lies within one of `places` (pointers)."""
    at = finding.pointer
    return any(at == p or at.startswith(p + "/") for p in places)


def _precise(error: Any) -> Any:
    """The error that says what is wrong: inside a failed `oneOf`/`anyOf` (a Schema or a
    Reference?), the branch error that reaches deepest into the document, as far down as the
    errors go."""
    for _ in range(32):
        inner = list(getattr(error, "context", None) or ())
        if not inner:
            break
        error = max(inner, key=lambda e: len(e.absolute_path))
    return error


def _pointer(base: str, path: Any) -> str:
    return base + "".join(f"/{escape_pointer(str(part))}" for part in path)


def _short(message: str, limit: int = 200) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
