"""The OpenAPI document and the image-generation operation it describes.

The document is the source of truth: every schema, enum, bound, default and media type the
suite uses is read from it at run time. Nothing in the package repeats a schema.

`load` reads a document within bounds, `resolve` inlines its `$ref`s (across files) and
`dialect` rewrites 3.0 schemas as 2020-12, `selection` finds the operation under test,
`operation` is what the rest of the suite reads, `findings` validates leniently, `cache` keeps
the resolved operation by content hash, `narrow` fits a document to one model. This module
re-exports the names the rest of the suite uses.
"""

from __future__ import annotations

from conformance.spec.document import Spec
from conformance.spec.load import DEFAULT_SPEC, DEFAULT_SPEC_NAME, load_spec, spec_from_dict
from conformance.spec.narrow import narrow
from conformance.spec.operation import JSON, SSE, KeyPlacement, Operation, Parameter
from conformance.spec.pointer import escape_pointer

__all__ = [
    "DEFAULT_SPEC",
    "DEFAULT_SPEC_NAME",
    "JSON",
    "KeyPlacement",
    "SSE",
    "Operation",
    "Parameter",
    "Spec",
    "escape_pointer",
    "load_spec",
    "narrow",
    "spec_from_dict",
]
