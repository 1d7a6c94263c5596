"""The OpenAPI document and the image-generation operation it describes.

The document is the source of truth: every schema, enum, bound, default and media type the
suite uses is read from it at run time. Nothing in the package repeats a schema.

`load` reads a document, `resolve` inlines its `$ref`s, `selection` finds the operation under
test, `operation` is what the rest of the suite reads, `findings` validates, `narrow` fits a
document to one model. This module re-exports the names the rest of the suite uses.
"""

from __future__ import annotations

from conformance.spec.document import DEFAULT_OPERATION_SUFFIX, Spec
from conformance.spec.load import DEFAULT_SPEC, DEFAULT_SPEC_NAME, load_spec, spec_from_dict
from conformance.spec.narrow import narrow
from conformance.spec.operation import JSON, SSE, Operation, Parameter
from conformance.spec.pointer import escape_pointer
from conformance.spec.resolve import resolve

__all__ = [
    "DEFAULT_OPERATION_SUFFIX",
    "DEFAULT_SPEC",
    "DEFAULT_SPEC_NAME",
    "JSON",
    "SSE",
    "Operation",
    "Parameter",
    "Spec",
    "escape_pointer",
    "load_spec",
    "narrow",
    "resolve",
    "spec_from_dict",
]
