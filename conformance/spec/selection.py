"""Which operation of a document the suite tests, and the `Operation` built from it."""

from __future__ import annotations

from typing import Any

from conformance.errors import SpecError
from conformance.spec.operation import JSON, Operation, Parameter
from conformance.spec.pointer import escape_pointer
from conformance.spec.resolve import resolve


def find_operation(raw: dict[str, Any], path_suffix: str, method: str) -> Operation:
    for path, item in (raw.get("paths") or {}).items():
        if path.endswith(path_suffix) and method in (item or {}):
            return build_operation(raw, path, method, item)
    raise SpecError(f"spec has no {method.upper()} operation ending in {path_suffix!r}")


def build_operation(
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
            mt: (entry or {}).get("schema", {}) for mt, entry in (resp.get("content") or {}).items()
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
