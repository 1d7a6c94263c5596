"""`conformance checks`: the catalogue as plain text or JSON.

Kept apart from the console (rich) and the runner (the generator) so that listing the catalogue
loads only the registry, the model and the spec reader.
"""

from __future__ import annotations

import json

from conformance.checks.registry import Check
from conformance.spec import Operation


def print_catalogue(checks: list[Check], op: Operation, as_json: bool = False) -> None:
    """`conformance checks`: ID, level, statement, spec pointer and reasoning per check."""
    rows = [
        {
            "id": c.id,
            "level": c.level.value,
            "family": c.family,
            "statement": c.statement,
            "pointer": c.spec_pointer(op),
            "rationale": c.rationale,
        }
        for c in checks
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    family = None
    for row in rows:
        if row["family"] != family:
            family = row["family"]
            print(f"\n== {family} ==")
        print(f"{row['id']:<28} {row['level']:<7} {row['statement']}")
        print(f"{'':<28} spec: {row['pointer']}")
        print(f"{'':<28} why:  {row['rationale']}")
