"""What `openapi-spec-validator` finds wrong with a document."""

from __future__ import annotations

from typing import Any

from conformance.errors import SpecError


def validate_document(raw: dict[str, Any], where: str) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    if not str(raw.get("openapi", "")).startswith("3."):
        raise SpecError(f"spec {where} is not an OpenAPI 3.x document")
    try:
        validate(raw)
    except OpenAPIValidationError as exc:
        raise SpecError(f"spec {where} is not a valid OpenAPI document: {exc.message}") from exc
