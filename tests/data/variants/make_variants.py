"""Write the style variants of the bundled document: the same contract in other legal styles.

Run from the repository root after the bundled document changes:

    .venv/bin/python tests/data/variants/make_variants.py

Each variant must give the same plan and the same verdicts as the bundled document
(`tests/test_spec_variants.py`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
BUNDLED = HERE.parents[2] / "conformance" / "specs" / "bifrost-azure-images.yaml"
PATH = "/openai/openai/deployments/{deployment-id}/images/generations"
JSON = "application/json"
SSE = "text/event-stream"
ENUM_FIELDS = ("size", "quality", "style", "response_format")
Doc = dict[str, Any]


def operation(doc: Doc) -> Doc:
    op: Doc = doc["paths"][PATH]["post"]
    return op


def request(doc: Doc) -> Doc:
    schema: Doc = operation(doc)["requestBody"]["content"][JSON]["schema"]
    return schema


def stream_schema(doc: Doc) -> Doc:
    schema: Doc = operation(doc)["responses"]["200"]["content"][SSE]["schema"]
    return schema


def openapi30(doc: Doc) -> Doc:
    """OpenAPI 3.0.3: `nullable: false` on every request field, boolean exclusive bounds
    beside the numeric ones, `example`s."""
    doc["openapi"] = "3.0.3"
    for name, field in request(doc)["properties"].items():
        field["nullable"] = False
        if name == "n":
            field["exclusiveMinimum"] = False
            field["exclusiveMaximum"] = False
            field["example"] = 2
    request(doc)["example"] = {"model": "dall-e-3", "prompt": "a red apple"}
    return doc


def allof_request(doc: Doc) -> Doc:
    """The request as an allOf of three component schemas, reached by $ref."""
    schema = request(doc)
    props = schema["properties"]
    groups = {
        "ImageRequestBase": ["model", "prompt"],
        "ImageRequestOptions": ["n", "size", "quality", "style"],
        "ImageRequestDelivery": ["response_format", "user", "stream", "fallbacks"],
    }
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, members in groups.items():
        part: Doc = {"type": "object", "properties": {k: props[k] for k in members}}
        required = [k for k in schema["required"] if k in members]
        if required:
            part["required"] = required
        components[name] = part
    body = operation(doc)["requestBody"]["content"][JSON]
    body["schema"] = {"allOf": [{"$ref": f"#/components/schemas/{name}"} for name in groups]}
    return doc


def oneof_const(doc: Doc) -> Doc:
    """Enums as oneOf of const; the stream event a oneOf of its types with a discriminator
    (an event without `type` stays valid, as in the bundled document)."""
    for name in ENUM_FIELDS:
        field = request(doc)["properties"][name]
        field["oneOf"] = [{"const": value} for value in field.pop("enum")]
    event = stream_schema(doc)
    common = {k: v for k, v in event["properties"].items() if k != "type"}
    kinds = event["properties"]["type"]["enum"]
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    names = {}
    for kind in kinds:
        title = "ImageStreamEvent" + "".join(p.title() for p in kind.replace(".", "_").split("_"))
        names[kind] = title
        components[title] = {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string", "const": kind}, **copy.deepcopy(common)},
        }
    components["ImageStreamEventUntyped"] = {
        "type": "object",
        "not": {"required": ["type"]},
        "properties": copy.deepcopy(common),
    }
    stream = operation(doc)["responses"]["200"]["content"][SSE]
    stream["schema"] = {
        "description": event["description"],
        "oneOf": [
            *({"$ref": f"#/components/schemas/{title}"} for title in names.values()),
            {"$ref": "#/components/schemas/ImageStreamEventUntyped"},
        ],
        "discriminator": {
            "propertyName": "type",
            "mapping": {kind: f"#/components/schemas/{title}" for kind, title in names.items()},
        },
    }
    return doc


def extras(doc: Doc) -> Doc:
    """Unrelated operations, servers with variables, security schemes, x- extensions."""
    doc["servers"] = [
        {
            "url": "{scheme}://gateway.example.com:{port}",
            "variables": {"scheme": {"default": "https"}, "port": {"default": "443"}},
            "x-region": "eu",
        },
        *doc.get("servers", []),
    ]
    doc["x-generator"] = "hand-made"
    doc["info"]["x-audience"] = "internal"
    doc.setdefault("components", {})["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "api-key"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    doc["security"] = [{"apiKey": []}, {"bearer": []}, {}]
    op = operation(doc)
    op["x-codegen-name"] = "create_image"
    for name, field in request(doc)["properties"].items():
        field[f"x-field-{name}"] = {"ui": "hidden"}
    op["responses"]["200"]["x-cache"] = True
    doc["paths"][PATH]["x-path-note"] = "images"
    doc["paths"]["/v1/models"] = {
        "get": {
            "operationId": "listModels",
            "responses": {
                "200": {
                    "description": "models",
                    "content": {JSON: {"schema": {"type": "array", "items": {"type": "string"}}}},
                }
            },
        }
    }
    doc["paths"]["/v1/embeddings"] = {
        "post": {
            "operationId": "createEmbedding",
            "requestBody": {
                "content": {
                    JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["input"],
                            "properties": {"input": {"type": "string"}},
                        }
                    }
                }
            },
            "responses": {"200": {"description": "vectors"}},
        }
    }
    doc["paths"]["/health"] = {"get": {"responses": {"200": {"description": "alive"}}}}
    return doc


def split_files(doc: Doc) -> dict[str, Doc]:
    """The request, the stream event and the error envelope in sibling files."""
    op = operation(doc)
    schemas = {
        "ImageRequest": request(doc),
        "StreamEvent": stream_schema(doc),
        "ErrorEnvelope": op["responses"]["400"]["content"][JSON]["schema"],
    }
    op["requestBody"]["content"][JSON]["schema"] = {"$ref": "schemas/request.yaml#/ImageRequest"}
    op["responses"]["200"]["content"][SSE]["schema"] = {"$ref": "schemas/events.yaml#/StreamEvent"}
    for status in ("400", "500"):
        op["responses"][status]["content"][JSON]["schema"] = {
            "$ref": "schemas/errors.yaml#/ErrorEnvelope"
        }
    return {
        "split/openapi.yaml": doc,
        "split/schemas/request.yaml": {"ImageRequest": schemas["ImageRequest"]},
        "split/schemas/events.yaml": {"StreamEvent": schemas["StreamEvent"]},
        "split/schemas/errors.yaml": {"ErrorEnvelope": schemas["ErrorEnvelope"]},
    }


class _NoAliases(yaml.SafeDumper):
    """Every node written out in full: a variant reads without YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


VARIANTS: dict[str, Callable[[Doc], Doc]] = {
    "openapi30-nullable.yaml": openapi30,
    "allof-request.yaml": allof_request,
    "oneof-const.yaml": oneof_const,
    "extras.yaml": extras,
}


def main() -> None:
    bundled = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    files = {name: make(copy.deepcopy(bundled)) for name, make in VARIANTS.items()}
    files.update(split_files(copy.deepcopy(bundled)))
    for name, doc in files.items():
        target = HERE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=100)
        target.write_text(f"# Written by make_variants.py from the bundled document.\n{text}")


if __name__ == "__main__":
    main()
