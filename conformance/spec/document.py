"""A loaded OpenAPI document and the operation the suite tests in it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from conformance.spec.operation import Operation

DEFAULT_OPERATION_SUFFIX = "/images/generations"


@dataclass
class Spec:
    """A loaded OpenAPI document."""

    raw: dict[str, Any]
    source: str
    sha256: str

    @property
    def title(self) -> str:
        return str(self.raw.get("info", {}).get("title", "untitled"))

    @property
    def version(self) -> str:
        return str(self.raw.get("info", {}).get("version", ""))

    @cached_property
    def operation(self) -> Operation:
        return self.find_operation(DEFAULT_OPERATION_SUFFIX, "post")

    def find_operation(self, path_suffix: str, method: str) -> Operation:
        from conformance.spec.selection import find_operation

        return find_operation(self.raw, path_suffix, method)
