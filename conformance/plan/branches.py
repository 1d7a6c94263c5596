"""Cases for the anyOf/oneOf members of the request schema that no other case reaches.

Value rows cover every enum member and each field's plain values; a member that none of them
matches (an object shape, a pattern, a member of a body-level oneOf) gets one body of its
own: the smallest valid body with a value drawn from that member (by schemathesis).
Each is judged by the whole schema before it is kept.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.model import Case
from conformance.plan.coverage import branch_coverage
from conformance.plan.domains import sample_value
from conformance.plan.positive import positive_case
from conformance.plan.validity import BodyJudge
from conformance.spec import Operation
from conformance.spec.schema import view


def branch_cases(op: Operation, base: dict[str, Any], planned: list[Case]) -> list[Case]:
    """One valid case per anyOf/oneOf member that the `planned` valid bodies match nowhere."""
    from conformance.plan.strategies import NO_VALUE, draw_value

    bodies = [c.body for c in planned if c.expect == "success" and isinstance(c.body, dict)]
    covered = branch_coverage(op, bodies)
    judge = BodyJudge(op)
    cases = []
    for number, branch in enumerate(op.request_branches, start=1):
        if covered[branch.pointer]["matched"]:
            continue
        body: dict[str, Any] | None
        if branch.location:
            value = sample_value(branch.location[-1], view(branch.schema))
            body = _with(base, branch.location, value)
            if judge.problem(body) is not None:  # a plain value does not do: draw one
                value = draw_value(branch.schema, seed=branch.pointer)
                body = _with(base, branch.location, value)
        else:
            drawn = draw_value({"allOf": [op.request_schema, branch.schema]}, seed=branch.pointer)
            known = op.properties
            body = (
                {**{k: v for k, v in drawn.items() if k in known}, **base}
                if isinstance(drawn, dict)
                else None
            )
            value = drawn
        if value is NO_VALUE or body is None or judge.problem(body) is not None:
            continue
        where = "/".join(branch.location) or "body"
        title = f"{where} matching the schema member at {branch.pointer}"
        cases.append(positive_case(f"branch-{number:03d}", title, body, op))
    return cases


def _with(base: dict[str, Any], location: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    node = body
    for name in location[:-1]:
        inner = node.get(name)
        node[name] = inner = inner if isinstance(inner, dict) else {}
        node = inner
    node[location[-1]] = value
    return body
