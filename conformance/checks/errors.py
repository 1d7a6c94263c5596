"""Checks of how requests are accepted or rejected, and of the error envelope."""

from __future__ import annotations

from conformance.checks._util import schema_problems, short
from conformance.checks.registry import ExchangeContext, Problem, check
from conformance.model import (
    EMPTY_PROMPT,
    ENVIRONMENT_STATUSES,
    UNKNOWN_FIELDS,
    Level,
    body_tags,
    stream_exclusive_fields,
    stream_tag,
)

ERROR_BODY = "responses/400/content/application~1json/schema"


def _judged(ctx: ExchangeContext) -> bool:
    """Answered, and not with a status about credentials or quota."""
    return ctx.answered and ctx.status not in ENVIRONMENT_STATUSES


def _is_4xx(ctx: ExchangeContext) -> bool:
    return 400 <= (ctx.status or 0) < 500


def _error_answer(ctx: ExchangeContext) -> bool:
    return _judged(ctx) and (ctx.status or 0) >= 400 and not ctx.exchange.is_stream


def _tags(ctx: ExchangeContext) -> set[str]:
    """The case's tags, plus those its body implies (hand-built cases carry none)."""
    found = ctx.cache.get("errors:tags")
    if found is None:
        found = {*ctx.case.tags, *body_tags(ctx.case.body, ctx.op)}
        ctx.cache["errors:tags"] = found
    return set(found)


def _ruled_rejection(ctx: ExchangeContext) -> bool:
    """A 4xx the rulings allow: an empty prompt, or a field the spec excludes from streams.

    The rulings name 400; another 4xx still rejects, and PROTO-STATUS-DECLARED (SHOULD) and
    ERR-EMPTY-PROMPT (MAY) report the undeclared status.
    """
    excluded = {stream_tag(name) for name in stream_exclusive_fields(ctx.op)}
    tags = _tags(ctx)
    return _is_4xx(ctx) and (EMPTY_PROMPT in tags or bool(excluded & tags))


@check(
    "ERR-NEGATIVE-4XX",
    Level.MUST,
    "A request that breaks the spec is rejected with a 4xx status (not 2xx, not 5xx).",
    "requestBody/content/application~1json/schema",
    "The request schema is the contract; invalid input passed on or crashing the gateway "
    "breaks it. 401/403/429 are environment (ruling).",
)
def negative_4xx(ctx: ExchangeContext) -> list[Problem] | None:
    if ctx.case.expect != "reject" or not _judged(ctx):
        return None
    if _is_4xx(ctx):
        return []
    rule = f" ({ctx.case.rule})" if ctx.case.rule else ""
    return [
        Problem(
            f"expected a 4xx for a request that breaks the spec{rule}, got {ctx.status}",
            expected="4xx",
            actual=str(ctx.status),
        )
    ]


@check(
    "ERR-VALID-ACCEPTED",
    Level.MUST,
    "A request valid per the spec is not rejected with a 4xx (except the rulings: a rejection "
    "of an empty prompt or of `response_format` with `stream: true`).",
    "requestBody/content/application~1json/schema",
    "Rejecting valid input breaks the contract; the rulings allow rejecting an empty prompt and "
    "response_format on streams (a status other than the declared 400 is left to "
    "PROTO-STATUS-DECLARED), unknown fields are judged as SHOULD, 401/403/429 skipped.",
)
def valid_accepted(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.valid_request or not _judged(ctx) or ctx.provoked_upstream_failure:
        return None  # a failure the suite provoked upstream is judged by the MAP- checks
    if UNKNOWN_FIELDS in _tags(ctx):
        return None  # ERR-UNKNOWN-FIELDS-ACCEPTED judges these at SHOULD
    status = ctx.status or 0
    if 200 <= status < 300:
        return []
    if not _is_4xx(ctx):
        return None  # 5xx and others are judged by the protocol checks
    if _ruled_rejection(ctx):
        return []
    return [
        Problem(
            f"expected a valid request to be accepted, got {status}{_message_suffix(ctx)}",
            expected="2xx",
            actual=str(status),
        )
    ]


@check(
    "ERR-ENVELOPE-SCHEMA",
    Level.MUST,
    "A 4xx/5xx JSON body validates against the declared error schema (incl. the provider enum).",
    ERROR_BODY,
    "Envelope fields are optional, but where present they must have the declared types and "
    "enums (ruling); the spec gives one envelope (`Error response from Bifrost`) for its "
    "errors, so an undeclared error status is held to it too.",
)
def envelope_schema(ctx: ExchangeContext) -> list[Problem] | None:
    if not _error_answer(ctx) or not ctx.parsed:
        return None
    schema = ctx.op.error_schema(ctx.status or 0)
    if schema is None:
        return None
    return schema_problems(ctx, schema, ctx.body, "body")


@check(
    "ERR-STATUS-CODE-MATCH",
    Level.MUST,
    "`status_code` in an error body, when present, equals the HTTP status.",
    f"{ERROR_BODY}/properties/status_code",
    "A status_code that contradicts the HTTP status misleads every client that reads it (ruling).",
)
def status_code_match(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    if not _error_answer(ctx) or not isinstance(body, dict):
        return None
    value = body.get("status_code")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if value == ctx.status:
        return []
    return [
        Problem(
            f"expected status_code {ctx.status} (the HTTP status), got {value}",
            expected=str(ctx.status),
            actual=str(value),
        )
    ]


@check(
    "ERR-MESSAGE",
    Level.SHOULD,
    "An error body carries a non-empty `error.message`.",
    f"{ERROR_BODY}/properties/error/properties/message",
    "The envelope's fields are all optional in the schema, so a missing message is a warning "
    "(ruling), though a caller needs it to act on the error.",
)
def message(ctx: ExchangeContext) -> list[Problem] | None:
    if not _error_answer(ctx):
        return None
    body = ctx.body
    if not ctx.exchange.body:
        got = "an empty body"
    elif not ctx.parsed:
        got = "a body that is not JSON"
    else:
        error = body.get("error") if isinstance(body, dict) else None
        text = error.get("message") if isinstance(error, dict) else None
        if isinstance(text, str) and text.strip():
            return []
        got = "no error object" if not isinstance(error, dict) else f"message {short(text)}"
    return [Problem(f"expected a non-empty error.message, got {got}", "error.message", got)]


@check(
    "ERR-UNKNOWN-FIELDS-ACCEPTED",
    Level.SHOULD,
    "A valid request carrying fields the spec does not name is not rejected.",
    "requestBody/content/application~1json/schema",
    "The schema sets no additionalProperties: false, so unknown fields are valid input; "
    "rejecting them is a warning, not a failure (ruling).",
)
def unknown_fields_accepted(ctx: ExchangeContext) -> list[Problem] | None:
    if UNKNOWN_FIELDS not in _tags(ctx) or not ctx.valid_request or not _judged(ctx):
        return None
    status = ctx.status or 0
    if 200 <= status < 300:
        return []
    if not _is_4xx(ctx):
        return None
    return [
        Problem(
            f"expected a request with unknown fields to be accepted, got {status}"
            f"{_message_suffix(ctx)}",
            expected="2xx",
            actual=str(status),
        )
    ]


@check(
    "ERR-EMPTY-PROMPT",
    Level.MAY,
    "An empty prompt is answered with 200 or 400; either is recorded as conforming.",
    "requestBody/content/application~1json/schema/properties/prompt",
    "An empty prompt is schema-valid but no provider can draw nothing, so both 200 and 400 "
    "conform (ruling); other answers are only an observation.",
)
def empty_prompt(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.valid_request or EMPTY_PROMPT not in _tags(ctx) or not _judged(ctx):
        return None
    if ctx.status in (200, 400):
        return []
    return [
        Problem(
            f"expected 200 or 400 for an empty prompt, got {ctx.status}",
            expected="200 or 400",
            actual=str(ctx.status),
        )
    ]


def _message_suffix(ctx: ExchangeContext) -> str:
    body = ctx.body
    error = body.get("error") if isinstance(body, dict) else None
    text = error.get("message") if isinstance(error, dict) else None
    return f" ({short(text)})" if isinstance(text, str) and text else ""
