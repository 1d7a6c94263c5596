"""Checks of the JSON body that answers a valid, non-streamed request with 200."""

from __future__ import annotations

from conformance.checks._util import (
    data_items,
    echo_problems,
    is_int,
    json_answer,
    schema_problems,
    short,
    timestamp_problem,
    usage_problems,
)
from conformance.checks.registry import ExchangeContext, Problem, check
from conformance.model import PROVIDER_USAGE, Level
from conformance.spec import JSON

BODY = "responses/200/content/application~1json/schema"
REQUEST = "requestBody/content/application~1json/schema"


@check(
    id="IMG-JSON-SCHEMA",
    level=Level.MUST,
    statement="The 200 body validates against the declared response schema (unknown fields "
    "allowed; null is not a string).",
    pointer=BODY,
    rationale="The schema is the contract; OpenAPI 3.1 means JSON Schema 2020-12, so a present "
    "optional string that is null violates it, while unknown fields are allowed (ruling). A "
    "provider's odd `usage` may be passed on as it came (ruling, 2026-12-07).",
    applies_to=("json",),
)
def json_schema(ctx: ExchangeContext) -> list[Problem] | None:
    schema = ctx.op.response_schema(200, JSON)
    if not json_answer(ctx) or not ctx.parsed or schema is None:
        return None
    body = ctx.body
    if PROVIDER_USAGE in ctx.case.tags and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "usage"}  # the provider's, passed on
    return schema_problems(ctx, schema, body, "body")


@check(
    id="IMG-COUNT",
    level=Level.MUST,
    statement="A 200 body carries exactly n images in `data` (n as requested, or its spec "
    "default).",
    pointer=f"{BODY}/properties/data",
    rationale="Every 200 property is optional in the schema, but the operation exists to return n "
    "images: a 200 without them fails (ruling).",
    applies_to=("json",),
)
def count(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    wanted = ctx.requested_n
    body = ctx.body
    data = body.get("data") if isinstance(body, dict) else None
    if not ctx.parsed:
        got = "a body that is not JSON"
    elif not isinstance(data, list):
        got = f"no data array ({short(data)})"
    elif len(data) != wanted:
        got = f"{len(data)}"
    else:
        return []
    return [Problem(f"expected {wanted} image(s) in data, got {got}", str(wanted), got)]


@check(
    id="IMG-FORMAT",
    level=Level.MUST,
    statement="Every image is returned in the requested `response_format` (b64_json or url, "
    "default from the spec).",
    pointer=f"{REQUEST}/properties/response_format",
    rationale="`response_format` selects which data item property carries the image; its spec "
    "default applies when it is absent.",
    applies_to=("json",),
)
def image_format(ctx: ExchangeContext) -> list[Problem] | None:
    fmt = ctx.response_format
    if not json_answer(ctx) or fmt is None:
        return None
    problems = []
    for i, item in data_items(ctx):
        value = item.get(fmt)
        if not isinstance(value, str) or not value:
            present = ", ".join(sorted(item)) or "no fields"
            problems.append(
                Problem(
                    f"expected data[{i}].{fmt} (response_format {fmt}), got {present}",
                    expected=fmt,
                    actual=present,
                )
            )
    return problems


@check(
    id="IMG-INDEX",
    level=Level.MUST,
    statement="Image `index` values, when present, are 0..n-1 without repeats.",
    pointer=f"{BODY}/properties/data/items/properties/index",
    rationale="`index` is the index of the image among the n generated; any other value or a "
    "repeat misnames an image.",
    applies_to=("json",),
)
def index(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx):
        return None
    indexed = [(i, item["index"]) for i, item in data_items(ctx) if is_int(item.get("index"))]
    if not indexed:
        return None
    wanted = ctx.requested_n
    problems, seen = [], set()
    for i, value in indexed:
        if not 0 <= value < wanted or value in seen:
            why = "a repeat" if value in seen else "out of range"
            problems.append(
                Problem(
                    f"expected data[{i}].index in 0..{wanted - 1} without repeats, "
                    f"got {value} ({why})",
                    expected=f"0..{wanted - 1}",
                    actual=str(value),
                )
            )
        seen.add(value)
    return problems


@check(
    id="IMG-CREATED-PRESENT",
    level=Level.SHOULD,
    statement="The 200 body carries `created`.",
    pointer=f"{BODY}/properties/created",
    rationale="`created` is optional in the schema, so its absence is a warning, not a failure "
    "(ruling).",
    applies_to=("json",),
)
def created_present(ctx: ExchangeContext) -> list[Problem] | None:
    if not json_answer(ctx) or not isinstance(ctx.body, dict):
        return None
    if "created" in ctx.body:
        return []
    return [Problem("expected a created timestamp, got none", "created", "absent")]


@check(
    id="IMG-CREATED-SECONDS",
    level=Level.MUST,
    statement="`created`, when present, is a unix timestamp in seconds: not in the future (a day "
    "of clock skew allowed), not before 2020.",
    pointer=f"{BODY}/properties/created",
    rationale="The spec calls `created` the Unix timestamp when the image was created, which "
    "counts seconds; milliseconds, zero or a future time are wrong data. An old time is allowed: "
    "a cached answer reports when its image was made.",
    applies_to=("json",),
)
def created_seconds(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    if not json_answer(ctx) or not isinstance(body, dict) or not is_int(body.get("created")):
        return None
    problem = timestamp_problem(body["created"], "created")
    return [problem] if problem else []


@check(
    id="IMG-USAGE-SUM",
    level=Level.MUST,
    statement="`usage`, when present, adds up: total = input + output tokens; details sum to "
    "their totals.",
    pointer=f"{BODY}/properties/usage",
    rationale="The spec describes `total_tokens` as the total tokens used (input plus output) and "
    "each `*_details` as its image and text tokens; counts that do not add up are wrong billing "
    "data, while absent counts are allowed (every usage field is optional).",
    applies_to=("json",),
)
def usage_sum(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    usage = body.get("usage") if isinstance(body, dict) else None
    if not json_answer(ctx) or not isinstance(usage, dict) or PROVIDER_USAGE in ctx.case.tags:
        return None  # a provider's odd usage may be passed on as it came (ruling)
    usage_schema = ctx.op.response_field(200, JSON, "usage")
    return usage_problems(usage, usage_schema, "usage")


@check(
    id="IMG-ECHO",
    level=Level.MUST,
    statement="Echoed `size` and `quality` match the request; for `size: auto` any size the spec "
    "lists; a `quality` echo outside the request's quality enum is not compared.",
    pointer=f"{REQUEST}/properties/size",
    rationale="An echo that differs from the request reports settings that were not applied; "
    "`auto` lets the gateway choose among the listed sizes (ruling). The response types `quality` "
    "as a plain string (`Quality setting used`), so a provider's own word for it (e.g. `high`) is "
    "no contradiction; another value of the request enum is.",
    applies_to=("json",),
)
def echo(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    if not json_answer(ctx) or not isinstance(body, dict):
        return None
    judged, problems = echo_problems(ctx, body, "")
    return problems if judged else None
