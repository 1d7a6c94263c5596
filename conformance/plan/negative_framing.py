"""A request body with data after its JSON object: `{...} junk`.

A JSON text is one value (RFC 8259), so the body is not JSON; a decoder that reads the first
value and stops (Go's `json.Decoder`, a streaming parser) accepts it and ignores the rest.
The rulings leave its level open; ERR-TRAILING-DATA judges it at SHOULD, so the case is kept
apart from the negatives ERR-NEGATIVE-4XX judges (tag `TRAILING_DATA`).
"""

from __future__ import annotations

import json
from typing import Any, Final

from conformance.model import TRAILING_DATA, Case
from conformance.spec import Operation
from conformance.spec import escape_pointer as escape_token

TRAILER: Final = b" junk"


def trailing_data_case(op: Operation, base: dict[str, Any]) -> Case:
    """`base` (a valid body) followed by `TRAILER`."""
    media = f"{op.pointer}/requestBody/content/{escape_token(op.request_media_type)}"
    return Case(
        id="neg-body-trailing-data",
        kind="negative",
        title="a valid JSON object followed by more data",
        expect="reject",
        raw_body=json.dumps(base).encode() + TRAILER,
        rule="body:trailing",
        pointer=media,
        tags=(TRAILING_DATA,),
    )
