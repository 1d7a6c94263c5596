"""What a plan may send as valid: every positive body is judged by the resolved request schema
(formats included) before it is planned, and the operation must be one the suite understands.

A body the schema refuses is never sent as valid: the gateway's right 400 would read as its
failure. A request schema in which the suite cannot find the fields it reasons about is a
document the suite cannot interpret, never a conformant run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from conformance.errors import SpecError
from conformance.model import MODEL_FIELD, PROMPT_FIELD, Case
from conformance.spec import Operation

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

UNDERSTOOD_FIELDS: Final = (MODEL_FIELD, PROMPT_FIELD)
_SHOWN: Final = 240


def require_understood(op: Operation) -> None:
    """Raise `SpecError` when the request schema names no prompt, or no model while no path
    parameter names the deployment (Azure's style): the suite could not build a request."""
    found = op.properties
    missing = [name for name in UNDERSTOOD_FIELDS if name not in found]
    if MODEL_FIELD in missing and any(p.location == "path" for p in op.parameters):
        missing.remove(MODEL_FIELD)
    if missing:
        raise SpecError(
            f"could not interpret the operation {op.method.upper()} {op.path}: its request "
            f"schema ({op.request_pointer}) declares no {' and no '.join(missing)} field"
        )


@dataclass
class BodyJudge:
    """The resolved request schema as a validator that also checks formats."""

    op: Operation

    @cached_property
    def validator(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        checker = Draft202012Validator.FORMAT_CHECKER
        return Draft202012Validator(self.op.request_schema, format_checker=checker)

    def problem(self, body: Any) -> str | None:
        """Why the schema refuses `body` (the first error, with its place), or None."""
        error = next(iter(self.validator.iter_errors(body)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        return f"{where}: {error.message}"[:_SHOWN]

    def require_valid_base(self, body: dict[str, Any]) -> None:
        """The smallest body must be valid, or nothing the plan sends as valid can be trusted."""
        found = self.problem(body)
        if found is not None and found.startswith(f"{MODEL_FIELD}:"):
            raise SpecError(
                f"the document does not allow the run's model {body.get(MODEL_FIELD)!r} "
                f"({found}): name one it allows with --model"
            )
        if found is not None:
            raise SpecError(
                f"could not interpret the operation {self.op.method.upper()} {self.op.path}: "
                f"the smallest request the suite can build is invalid per the document ({found})"
            )

    def split(self, cases: list[Case]) -> tuple[list[Case], list[dict[str, str]]]:
        """Cases to plan, and the valid-meant cases the schema refuses (id and why)."""
        kept: list[Case] = []
        refused: list[dict[str, str]] = []
        for case in cases:
            found = self.problem(case.body) if case.expect == "success" and case.is_json else None
            if found is None:
                kept.append(case)
            else:
                refused.append({"case": case.id, "problem": found})
        return kept, refused
