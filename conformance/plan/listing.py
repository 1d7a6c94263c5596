"""The plan as a person or a script reads it: `conformance run --dry-run --list`.

One line per case (id, kind, expectation, rule, body) on the terminal, and `plan.json` with every
case in full, so what a run would send can be reviewed before anything is sent.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.model import Case
from conformance.plan.build import Plan

BODY_CHARS = 160


def case_dict(case: Case) -> dict[str, Any]:
    """Everything a case says, as JSON data (exact bytes of a non-JSON body as text)."""
    data: dict[str, Any] = {
        "id": case.id,
        "kind": case.kind,
        "title": case.title,
        "expect": case.expect,
        "rule": case.rule,
        "pointer": case.pointer,
        "tags": list(case.tags),
        "content_type": case.content_type,
        "deployment": case.deployment,
        "api_version": case.api_version,
        "omit_api_version": case.omit_api_version,
    }
    if case.raw_body is not None:
        data["raw_body"] = case.raw_body.decode("utf-8", "backslashreplace")
    else:
        data["body"] = case.body
    return data


def plan_document(plan: Plan, summary: dict[str, Any]) -> dict[str, Any]:
    """The `plan.json` document: the summary `--dry-run` prints, and every case."""
    return {"summary": summary, "cases": [case_dict(c) for c in plan.cases]}


def case_line(case: Case) -> str:
    """`id  kind  expect  rule  body`, the body cut to `BODY_CHARS`."""
    if case.raw_body is not None:
        body = repr(case.raw_body)
    else:
        body = json.dumps(case.body, ensure_ascii=False, separators=(",", ":"))
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1] + "…"
    return f"{case.id:40} {case.kind:9} {case.expect:8} {case.rule or '-':32} {body}"
