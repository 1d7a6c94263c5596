"""The Bifrost error envelope, with its enums read from the spec's error schema."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.spec import Operation
from conformance.targets.messages import GatewayRequest

PREFERRED_PROVIDER = "azure"
REQUEST_TYPE = "image_generation"
ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error"}


def provider(op: Operation, status: int = 400) -> str:
    """This gateway's provider identifier, as listed in the error schema's provider enum."""
    schema = op.error_schema(status) or {}
    extra = schema.get("properties", {}).get("extra_fields", {})
    names = list(extra.get("properties", {}).get("provider", {}).get("enum", []))
    if PREFERRED_PROVIDER in names or not names:
        return PREFERRED_PROVIDER
    return str(names[0])


def envelope(
    req: GatewayRequest, status: int, message: str, param: str, code: str
) -> dict[str, Any]:
    """A complete error envelope whose `status_code` equals the HTTP `status`."""
    event_id = str(uuid.uuid4())
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {
        "event_id": event_id,
        "type": kind,
        "is_bifrost_error": True,
        "status_code": status,
        "error": {
            "type": kind,
            "code": code,
            "message": message,
            "param": param,
            "event_id": event_id,
        },
        "extra_fields": {
            "provider": provider(req.op, status),
            "model_requested": req.model,
            "request_type": REQUEST_TYPE,
        },
    }
