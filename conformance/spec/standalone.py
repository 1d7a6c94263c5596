"""The operation under test as a document of its own, for tools that read OpenAPI documents.

An embedded target or an OpenAPI validator (openapi-core) reads a whole document; the source
document may be 3.0, split across files, or hold path items that are `$ref`s. This document has
only the operation, every `$ref` inlined and every schema in JSON Schema 2020-12, so it is
OpenAPI 3.1 whatever the source's style.
"""

from __future__ import annotations

from typing import Any

from conformance.spec.operation import Operation

SERVED_AT = "/"


def standalone_document(op: Operation, title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document of `op` alone, served at the root, with no security."""
    entry: dict[str, Any] = {
        "operationId": op.operation_id,
        "parameters": [
            {"name": p.name, "in": p.location, "required": p.required, "schema": p.schema}
            for p in op.parameters
        ],
        "responses": {
            status: {
                "description": status,
                **({"content": {mt: {"schema": s} for mt, s in media.items()}} if media else {}),
            }
            for status, media in op.responses.items()
        },
    }
    if op.request_schema or op.request_required:
        entry["requestBody"] = {
            "required": op.request_required,
            "content": {op.request_media_type: {"schema": op.request_schema}},
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version or "0"},
        "servers": [{"url": SERVED_AT}],
        "security": [],
        "paths": {op.path: {op.method: entry}},
    }
