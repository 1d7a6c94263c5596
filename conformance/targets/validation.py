"""Request validation by openapi-core: every way a request breaks the spec, as `Issue`s.

The reference gateway routes by itself (an encoded `/` stays inside its path parameter) and
hands openapi-core the operation's path template with the decoded path parameters; openapi-core
checks the parameters, the content type and the body against the document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas31_types_caster
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.deserializing.styles.exceptions import EmptyQueryParameterValue
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas import oas31_schema_validators_factory
from openapi_core.validation.schemas.datatypes import FormatValidatorsDict
from openapi_core.validation.schemas.factories import DialectSchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from conformance.spec import JSON, Operation, Spec
from conformance.targets.inbound import parse_json
from conformance.targets.messages import GatewayRequest, Issue


class SpecRequestValidator:
    """openapi-core's request validator for the spec's operation, built once per gateway."""

    def __init__(self, spec: Spec) -> None:
        self.op = spec.operation
        schemas = _ReusedSchemaValidators(oas31_schema_validators_factory)
        config = Config(
            spec_validator_cls=None,  # the document was validated when it was loaded
            extra_media_type_deserializers={JSON: _json_loads},
            schema_validators_factory=schemas,
            schema_casters_factory=SchemaCastersFactory(schemas, oas31_types_caster),
        )
        self._validator = OpenAPI.from_dict(served_document(spec), config=config).request_validator

    def issues(self, req: GatewayRequest, path_params: Mapping[str, str]) -> list[Issue]:
        """Every way `req` breaks the spec, most basic first (empty = valid)."""
        errors = self._validator.iter_errors(_OpenAPIRequest(self.op, req, path_params))
        return [issue for error in errors for issue in _issues(error, self.op)]


def served_document(spec: Spec) -> dict[str, Any]:
    """The document as this gateway serves it: only the operation, at the gateway's own origin
    (whatever `servers` say), with no authentication, every `$ref` inlined and every schema in
    JSON Schema 2020-12 (`Spec.standalone`), whatever the source document's style."""
    return spec.standalone()


class _OpenAPIRequest:
    """A `GatewayRequest` as openapi-core reads a request (its `Request` protocol, with the
    path already matched: `path_pattern` and the decoded path parameters)."""

    host_url = ""

    def __init__(self, op: Operation, req: GatewayRequest, path_params: Mapping[str, str]):
        self.path = self.path_pattern = op.path
        self.method = req.method.lower()
        self.body = req.raw
        self.content_type = req.headers.get("content-type", "").lower()
        self.parameters = RequestParameters(
            path=dict(path_params),
            query=ImmutableMultiDict(req.query),
            header=Headers(req.headers),
        )


class _ReusedSchemaValidators(DialectSchemaValidatorsFactory):
    """openapi-core's schema validators, each built on first use and then reused (openapi-core
    otherwise compiles a validator and copies its format checker for every value it checks)."""

    def __init__(self, base: DialectSchemaValidatorsFactory) -> None:
        super().__init__(
            base.schema_validator_cls, base.default_jsonschema_dialect_id, base.format_checker
        )
        self._built: dict[tuple[Any, ...], SchemaValidator] = {}

    def create(
        self,
        spec: SchemaPath,
        schema: SchemaPath,
        format_validators: FormatValidatorsDict | None = None,
        extra_format_validators: FormatValidatorsDict | None = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> SchemaValidator:
        flags = (forbid_unspecified_additional_properties, enforce_properties_required)
        key = (schema.as_uri(), *flags)
        if format_validators or extra_format_validators:
            return super().create(spec, schema, format_validators, extra_format_validators, *flags)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = super().create(spec, schema, None, None, *flags)
        return built


def _json_loads(raw: bytes, **parameters: str) -> Any:
    """The gateway's one JSON reading, as openapi-core's deserializer (ValueError = not JSON)."""
    found, value = parse_json(raw)
    if not found:
        raise ValueError("not JSON")
    return value


def _issues(error: Exception, op: Operation) -> list[Issue]:
    cause = error.__cause__
    if isinstance(error, MissingRequiredParameter):
        return [Issue(error.name, f"{error.name} is required", "required", "missing")]
    if isinstance(error, ParameterValidationError):
        return _parameter_issues(error, cause)
    if isinstance(error, MissingRequiredRequestBody):
        return [Issue("body", "request body is required", "required", "missing_body")]
    if isinstance(cause, MediaTypeNotFound):
        wanted = " or ".join(cause.availableMimetypes) or op.request_media_type
        message = f"Content-Type must be {wanted}, got {cause.mimetype or 'none'}"
        return [Issue("content-type", message, "content-type", "unsupported_media_type")]
    if isinstance(cause, MediaTypeDeserializeError):
        message = f"request body is not valid JSON ({cause.mimetype})"
        return [Issue("body", message, "json", "invalid_json")]
    schema_errors = _schema_errors(cause)
    if isinstance(error, RequestBodyValidationError) and schema_errors:
        return _body_issues(schema_errors)
    return [Issue("body", str(error) or error.__class__.__name__, "", "invalid_request")]


def _parameter_issues(error: ParameterValidationError, cause: BaseException | None) -> list[Issue]:
    name = error.name
    if isinstance(cause, EmptyQueryParameterValue):
        message = f"{name} must not be empty (the spec does not allow empty values)"
        return [Issue(name, message, "allowEmptyValue")]
    found = _schema_errors(cause)
    if found:
        return [Issue(name, f"{name}: {e.message}", str(e.validator)) for e in found]
    return [Issue(name, f"invalid {error.location} parameter {name}", "style")]


def _schema_errors(cause: BaseException | None) -> list[SchemaError]:
    found: Iterable[Any] = getattr(cause, "schema_errors", None) or ()
    return [e for e in found if isinstance(e, SchemaError)]


def _body_issues(errors: list[SchemaError]) -> list[Issue]:
    reported: set[tuple[Any, ...]] = set()
    ordered = sorted(errors, key=lambda e: (len(e.absolute_path), str(list(e.absolute_path))))
    return [_body_issue(error, reported) for error in ordered]


def _body_issue(error: SchemaError, reported: set[tuple[Any, ...]]) -> Issue:
    keyword = str(error.validator)
    if keyword == "required":
        param = _missing_name(error, reported)
        return Issue(param, error.message, keyword, "missing_required_parameter")
    param = ".".join(str(p) for p in error.absolute_path) or "body"
    return Issue(param, error.message, keyword, "invalid_value")


def _missing_name(error: SchemaError, reported: set[tuple[Any, ...]]) -> str:
    """The dotted name of the required property `error` is about (one error per missing name,
    in the order of the schema's `required` list)."""
    present = error.instance if isinstance(error.instance, dict) else {}
    for name in error.validator_value or ():
        key = (*error.absolute_path, name)
        if name not in present and key not in reported:
            reported.add(key)
            return ".".join(str(p) for p in key)
    return ".".join(str(p) for p in error.absolute_path) or "body"
