"""Load an OpenAPI 3.1 document and expose the image-generation operation it describes.

The document is the source of truth: every schema, enum, bound, default and media type the
suite uses is read from here at run time. Nothing in the package repeats a schema.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from conformance.errors import SpecError
from conformance.spec.schema import Branch, Field, branches, fields, media_schema, required

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

DEFAULT_SPEC_NAME = "bifrost-azure-images.yaml"
DEFAULT_SPEC = resources.files("conformance").joinpath("specs", DEFAULT_SPEC_NAME)
"""The bundled default document: package data, so an installed wheel finds it from any cwd."""
DEFAULT_OPERATION_SUFFIX = "/images/generations"
JSON = "application/json"
SSE = "text/event-stream"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    """One resolved operation: path template, parameters, request and response schemas."""

    path: str
    method: str
    operation_id: str
    parameters: list[Parameter]
    request_schema: dict[str, Any]
    request_media_type: str
    request_required: bool
    responses: dict[str, dict[str, dict[str, Any]]]
    pointer: str
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict, repr=False)

    @cached_property
    def request_fields(self) -> dict[str, Field]:
        """The request's fields wherever they sit in the schema, each read into a flat view
        (`conformance.spec.schema`): the same contract in any style reads the same."""
        return fields(self.request_schema)

    @cached_property
    def request_branches(self) -> list[Branch]:
        """Every anyOf/oneOf member of the request schema, with the body location it judges."""
        return branches(self.request_schema)

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        return {name: dict(f.schema) for name, f in self.request_fields.items()}

    @cached_property
    def required_fields(self) -> list[str]:
        return required(self.request_schema)

    def field_schema(self, name: str) -> dict[str, Any]:
        found = self.request_fields.get(name)
        return dict(found.schema) if found else {}

    def field_pointer(self, name: str) -> str:
        """The absolute pointer of a field's schema (through allOf / anyOf where it sits)."""
        found = self.request_fields.get(name)
        relative = found.pointer if found else f"/properties/{escape_pointer(name)}"
        return self.request_pointer + relative

    def default(self, name: str, fallback: Any = None) -> Any:
        return self.field_schema(name).get("default", fallback)

    def enum(self, name: str) -> list[Any]:
        return list(self.field_schema(name).get("enum", []))

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def declared_statuses(self) -> list[str]:
        return list(self.responses)

    def is_declared(self, status: int | str) -> bool:
        """Whether `status` is declared for the operation (exactly, as `4XX`, or `default`)."""
        return self._status_key(status) is not None

    def media_types(self, status: int | str) -> list[str]:
        return list(self._response_entry(status))

    def response_schema(self, status: int | str, media_type: str) -> dict[str, Any] | None:
        return self._response_entry(status).get(media_type)

    def response_field(self, status: int | str, media_type: str, name: str) -> dict[str, Any]:
        """The flat view of one property of a response schema, wherever it sits (a stream's
        `oneOf` of event types reads as one `type` enum); `{}` when not declared."""
        schema = self.response_schema(status, media_type)
        found = fields(schema).get(name) if schema is not None else None
        return dict(found.schema) if found else {}

    def response_pointer(self, status: int | str, media_type: str) -> str:
        key = self._status_key(status) or str(status)
        return f"{self.pointer}/responses/{key}/content/{escape_pointer(media_type)}/schema"

    @property
    def request_pointer(self) -> str:
        return (
            f"{self.pointer}/requestBody/content/{escape_pointer(self.request_media_type)}/schema"
        )

    def error_statuses(self) -> list[str]:
        return [s for s in self.responses if s[:1] in ("4", "5")]

    def error_schema(self, status: int) -> dict[str, Any] | None:
        """The schema of an error body for `status`, falling back to any declared error."""
        own = self.response_schema(status, JSON)
        if own is not None:
            return own
        for key in self.error_statuses():
            schema = self.response_schema(key, JSON)
            if schema is not None:
                return schema
        return None

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        """A compiled validator for `schema`, built once per schema object."""
        key = str(id(schema))
        found = self._validators.get(key)
        if found is None:
            from jsonschema import Draft202012Validator

            found = Draft202012Validator(schema)
            self._validators[key] = found
        return found

    def request_validator(self) -> Draft202012Validator:
        return self.validator(self.request_schema)

    def _status_key(self, status: int | str) -> str | None:
        text = str(status)
        if text in self.responses:
            return text
        wildcard = f"{text[:1]}XX"
        if wildcard in self.responses:
            return wildcard
        if "default" in self.responses:
            return "default"
        return None

    def _response_entry(self, status: int | str) -> dict[str, dict[str, Any]]:
        key = self._status_key(status)
        return self.responses.get(key, {}) if key else {}


@dataclass
class Spec:
    """A loaded OpenAPI document."""

    raw: dict[str, Any]
    source: str
    sha256: str

    @property
    def title(self) -> str:
        return str(self.raw.get("info", {}).get("title", "untitled"))

    @property
    def version(self) -> str:
        return str(self.raw.get("info", {}).get("version", ""))

    @cached_property
    def operation(self) -> Operation:
        return self.find_operation(DEFAULT_OPERATION_SUFFIX, "post")

    def find_operation(self, path_suffix: str, method: str) -> Operation:
        for path, item in (self.raw.get("paths") or {}).items():
            if path.endswith(path_suffix) and method in (item or {}):
                return _build_operation(self.raw, path, method, item)
        raise SpecError(f"spec has no {method.upper()} operation ending in {path_suffix!r}")


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


def narrow(spec: Spec, rules: list[str]) -> Spec:
    """The spec with the request schema narrowed to what one deployment's model supports.

    Rules: `FIELD=V1,V2` keeps only those values (an enum, or the booleans `true`/`false`);
    `FIELD<=N` and `FIELD>=N` tighten an integer's bounds. A narrowed value must be one the
    spec allows. Plans and checks then follow the narrowed document like any other.
    """
    if not rules:
        return spec
    raw = copy.deepcopy(spec.raw)
    op = spec.operation
    item = raw["paths"][op.path][op.method]
    schema = resolve(item["requestBody"]["content"][op.request_media_type]["schema"], raw)
    item["requestBody"]["content"][op.request_media_type]["schema"] = schema
    properties = schema.get("properties", {})
    for rule in rules:
        _apply_narrowing(rule, properties)
    source = f"{spec.source} (narrowed: {'; '.join(rules)})"
    return spec_from_dict(raw, source=source)


def _apply_narrowing(rule: str, properties: dict[str, Any]) -> None:
    match = re.fullmatch(r"\s*([\w-]+)\s*(<=|>=|=)\s*(.+?)\s*", rule)
    if not match:
        raise SpecError(f"--narrow {rule!r}: expected FIELD=V1,V2 or FIELD<=N or FIELD>=N")
    name, op_, text = match.groups()
    field = properties.get(name)
    if field is None:
        raise SpecError(f"--narrow {rule!r}: the request has no field {name!r}")
    kind = field.get("type")
    if op_ in ("<=", ">="):
        if kind not in ("integer", "number"):
            raise SpecError(f"--narrow {rule!r}: {name} is not a number")
        try:
            bound = int(text) if kind == "integer" else float(text)
        except ValueError:
            raise SpecError(f"--narrow {rule!r}: {text!r} is not a number") from None
        key, keep = ("maximum", min) if op_ == "<=" else ("minimum", max)
        low, high = field.get("minimum"), field.get("maximum")
        empty = (
            (low is not None and bound < low)
            if op_ == "<="
            else (high is not None and bound > high)
        )
        if empty:
            raise SpecError(f"--narrow {rule!r}: leaves no valid value")
        field[key] = keep(field.get(key, bound), bound)
        return
    values: list[Any] = [v.strip() for v in text.split(",") if v.strip()]
    if kind == "boolean":
        if any(v not in ("true", "false") for v in values):
            raise SpecError(f"--narrow {rule!r}: {name} takes true or false")
        values = [v == "true" for v in values]
    elif "enum" not in field:
        raise SpecError(f"--narrow {rule!r}: {name} has no enum to narrow (use <= or >=)")
    allowed = field.get("enum", [True, False])
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise SpecError(f"--narrow {rule!r}: {unknown or 'nothing'} not in the spec's {allowed}")
    field["enum"] = values
    if "default" in field and field["default"] not in values:
        field.pop("default")


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


def _build_operation(
    root: dict[str, Any], path: str, method: str, item: dict[str, Any]
) -> Operation:
    op = resolve(item[method], root)
    shared = resolve(item.get("parameters", []), root)
    params = {(p["name"], p["in"]): p for p in [*shared, *op.get("parameters", [])]}
    parameters = [
        Parameter(
            name=p["name"],
            location=p["in"],
            required=bool(p.get("required", p["in"] == "path")),
            schema=p.get("schema", {}),
        )
        for p in params.values()
    ]
    body = op.get("requestBody") or {}
    content = body.get("content") or {}
    media = JSON if JSON in content else next(iter(content), JSON)
    responses: dict[str, dict[str, dict[str, Any]]] = {}
    for status, resp in (op.get("responses") or {}).items():
        responses[str(status)] = {
            mt: media_schema(entry or {}) for mt, entry in (resp.get("content") or {}).items()
        }
    return Operation(
        path=path,
        method=method,
        operation_id=str(op.get("operationId", f"{method} {path}")),
        parameters=parameters,
        request_schema=(content.get(media) or {}).get("schema", {}),
        request_media_type=media,
        request_required=bool(body.get("required", False)),
        responses=responses,
        pointer=f"#/paths/{escape_pointer(path)}/{method}",
    )


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


def escape_pointer(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


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


def _validate_document(raw: dict[str, Any], where: str) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    if not str(raw.get("openapi", "")).startswith("3."):
        raise SpecError(f"spec {where} is not an OpenAPI 3.x document")
    try:
        validate(raw)
    except OpenAPIValidationError as exc:
        raise SpecError(f"spec {where} is not a valid OpenAPI document: {exc.message}") from exc
