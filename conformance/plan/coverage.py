"""What a list of cases covers: values per field, pairs per field pair, rules, tags."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from typing import Any

from conformance.model import MODEL_FIELD, Case
from conformance.plan.domains import (
    ABSENT,
    columns,
    compatible,
    field_values,
    json_value,
    numeric_bounds,
    value_key,
)
from conformance.plan.pairwise import describe, pairs_in, required_pairs
from conformance.spec import Operation
from conformance.spec.schema import types as schema_types


def valid_bodies(cases: list[Case]) -> list[dict[str, Any]]:
    """The JSON object bodies of the cases expected to succeed."""
    return [c.body for c in cases if c.expect == "success" and isinstance(c.body, dict)]


def plan_coverage(op: Operation, cases: list[Case]) -> dict[str, Any]:
    """Coverage of `cases` against the spec: JSON data, missing items listed explicitly."""
    bodies = valid_bodies(cases)
    return {
        "fields": {name: _field_coverage(name, op, bodies) for name in op.properties},
        "pairs": _pair_coverage(op, bodies),
        "branches": branch_coverage(op, bodies),
        "negatives": _negative_coverage(cases),
        "tags": dict(sorted(Counter(t for c in cases for t in c.tags).items())),
        "parameters": {
            "api_version_absent": sum(1 for c in cases if c.omit_api_version),
            "deployment_set": sorted({c.deployment for c in cases if c.deployment is not None}),
        },
    }


def reached(coverage: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers of a coverage dict: domain values and pairs covered of those required."""
    fields = coverage["fields"].values()
    pairs = coverage["pairs"].values()
    return {
        "values": {
            "covered": sum(len(f["values"]) - len(f["missing"]) for f in fields if "values" in f),
            "total": sum(len(f["values"]) for f in fields if "values" in f),
        },
        "pairs": {
            "covered": sum(p["required"] - len(p["missing"]) for p in pairs),
            "total": sum(p["required"] for p in pairs),
        },
        "negative_rules": len(coverage["negatives"]["rules"]),
        "branches": {
            "covered": sum(1 for b in coverage.get("branches", {}).values() if b["matched"]),
            "total": len(coverage.get("branches", {})),
        },
    }


def branch_coverage(op: Operation, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Each anyOf/oneOf member of the request schema (by pointer): the body location it judges
    and how many valid bodies it matched there (0: not covered)."""
    from jsonschema import Draft202012Validator

    report: dict[str, Any] = {}
    for branch in op.request_branches:
        validator = Draft202012Validator(branch.schema)
        values = [v for v in (value_at(b, branch.location) for b in bodies) if v is not ABSENT]
        report[branch.pointer] = {
            "location": "/".join(branch.location) or "body",
            "matched": sum(1 for v in values if validator.is_valid(v)),
        }
    return report


def value_at(body: Any, location: tuple[str, ...]) -> Any:
    """The value at a body location (field names), ABSENT when the body does not hold it."""
    for name in location:
        if not isinstance(body, dict) or name not in body:
            return ABSENT
        body = body[name]
    return body


def _field_coverage(name: str, op: Operation, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    schema = op.field_schema(name)
    present = [b[name] for b in bodies if name in b]
    entry: dict[str, Any] = {"present": len(present), "absent": len(bodies) - len(present)}
    sent_keys = {value_key(v) for v in present}
    solid = [t for t in schema_types(schema) if t != "null"]
    finite = bool(schema.get("enum")) or solid in (["boolean"], ["integer"], ["number"])
    if name == MODEL_FIELD:
        entry["fixed"] = "the run's model (--model)"  # never varied: each model is paid for
        finite = False
    if finite:
        expected = field_values(name, schema)
        entry["values"] = [json_value(v) for v in expected]
        entry["sent"] = [json.loads(key) for key in sorted(sent_keys)]
        entry["missing"] = [json_value(v) for v in expected if value_key(v) not in sent_keys]
    else:
        entry["distinct"] = len(sent_keys)
        lengths = [len(v) for v in present if isinstance(v, (str, list))]
        entry["max_length"] = max(lengths, default=0)
    if {"integer", "number"} & set(schema_types(schema)) and not schema.get("enum"):
        low, high = numeric_bounds(schema)
        numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
        entry["bounds"] = {"minimum": low, "maximum": high}
        entry["boundaries_sent"] = {
            "minimum": low is not None and low in numbers,
            "maximum": high is not None and high in numbers,
        }
    return entry


def _pair_coverage(op: Operation, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    domains = columns(op)
    needed = set(required_pairs(domains, compatible(op)))
    every = set(required_pairs(domains))
    seen: set[tuple[int, int, int, int]] = set()
    for body in bodies:
        row = {name: body.get(name, ABSENT) for name in domains}
        seen |= pairs_in(row, domains, value_key)
    names = list(domains)
    report: dict[str, Any] = {}
    for i, j in combinations(range(len(names)), 2):
        mine = {p for p in every if p[0] == i and p[2] == j}
        required = mine & needed
        report[f"{names[i]} x {names[j]}"] = {
            "required": len(required),
            "exercised": len(mine & seen),
            "missing": [_shown(p, domains) for p in sorted(required - seen)],
            "excluded": [_shown(p, domains) for p in sorted(mine - needed)],
        }
    return report


def _negative_coverage(cases: list[Case]) -> dict[str, Any]:
    rules = Counter(c.rule for c in cases if c.expect == "reject" and c.rule)
    return {"cases": sum(rules.values()), "rules": dict(sorted(rules.items()))}


def _shown(pair: tuple[int, int, int, int], domains: dict[str, list[Any]]) -> list[Any]:
    _, first, _, second = describe(pair, domains)
    return [json_value(first), json_value(second)]
