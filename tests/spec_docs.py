"""Small OpenAPI documents for the spec layer's tests, written to temporary files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["model", "prompt"],
    "properties": {
        "model": {"type": "string"},
        "prompt": {"type": "string"},
        "n": {"type": "integer", "minimum": 1, "maximum": 4},
        "size": {"type": "string", "enum": ["256x256", "1024x1024"]},
    },
}
IMAGES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "created": {"type": "integer"},
        "data": {
            "type": "array",
            "items": {"type": "object", "properties": {"b64_json": {"type": "string"}}},
        },
    },
}


def operation(request: Any = None, response: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": "createImage",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": REQUEST if request is None else request}},
        },
        "responses": {
            "200": {
                "description": "ok",
                "content": {
                    "application/json": {"schema": IMAGES if response is None else response}
                },
            }
        },
        **extra,
    }


def document(
    paths: dict[str, Any] | None = None, version: str = "3.1.0", **extra: Any
) -> dict[str, Any]:
    return {
        "openapi": version,
        "info": {"title": "test", "version": "1"},
        "paths": {"/images/generations": {"post": operation()}} if paths is None else paths,
        **extra,
    }


def write(folder: Path, name: str, content: Any) -> Path:
    """`content` as YAML (or JSON for a `.json` name) at `folder/name`."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(content) if name.endswith(".json") else yaml.safe_dump(content)
    path.write_text(text, encoding="utf-8")
    return path
