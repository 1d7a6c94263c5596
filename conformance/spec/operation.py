"""The operation under test: path template, parameters, request and response schemas.

Every schema an `Operation` hands out is a resolved dict (refs inlined), so the planner, the
checks and the validators read one shape whatever the document's style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.spec.pointer import escape_pointer
from conformance.spec.schema import Branch, Field, branches, fields, required

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

JSON = "application/json"
SSE = "text/event-stream"


@dataclass(frozen=True)
class KeyPlacement:
    """Where the document's security scheme puts the API key: a header (`name`), a query
    parameter (`name`) or `Authorization: Bearer`."""

    location: str = "header"
    """"header", "query" or "bearer"."""
    name: str = "api-key"


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
    dialect: str = "3.1"
    """The document's OpenAPI version ("3.0" or "3.1"); the schemas here are 2020-12 either way."""
    base_path: str = ""
    """The path of the document's first server (variables at their defaults), e.g. `/v1`."""
    key: KeyPlacement = field(default_factory=KeyPlacement)
    """Where `--api-key` goes, as the operation's security scheme says."""
    _validators: dict[str, Draft202012Validator] = field(
        default_factory=dict, repr=False, compare=False
    )
    _response_fields: dict[int, tuple[dict[str, Any], dict[str, Field]]] = field(
        default_factory=dict, repr=False, compare=False
    )

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
    def path_parameters(self) -> list[str]:
        """The names in the path template, in order (`{deployment-id}`, `{model}`, ...)."""
        return re.findall(r"\{([^{}]+)\}", self.path)

    def render_path(self, value: str, template: str | None = None) -> str:
        """`template` (default: the operation's path) with every parameter set to `value`
        (the deployment), percent-encoded."""
        quoted = quote(value, safe="")
        return re.sub(r"\{[^{}]+\}", lambda _m: quoted, template or self.path)

    def path_regex(self) -> str:
        """A regular expression for the path; its first parameter is the group `deployment`."""
        parts = re.split(r"(\{[^{}]+\})", self.path)
        out, named = [], False
        for part in parts:
            if part.startswith("{") and part.endswith("}"):
                out.append("(?P<deployment>[^/]*)" if not named else "[^/]*")
                named = True
            else:
                out.append(re.escape(part))
        return "".join(out)

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
        if schema is None:
            return {}
        # Read once per schema: the checks ask for the same fields on every exchange. Kept
        # with the schema itself, so an id reused by another schema never finds these.
        kept = self._response_fields.get(id(schema))
        if kept is None or kept[0] is not schema:
            kept = self._response_fields[id(schema)] = (schema, fields(schema))
        found = kept[1].get(name)
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
