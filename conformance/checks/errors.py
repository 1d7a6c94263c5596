"""Checks of how requests are accepted or rejected, and of the error envelope."""

from __future__ import annotations

import re

from conformance.checks._util import is_int, schema_problems, short
from conformance.checks.registry import ExchangeContext, Problem, check
from conformance.model import (
    EMPTY_PROMPT,
    ENVIRONMENT_STATUSES,
    MODEL_FIELD,
    TRAILING_DATA,
    UNKNOWN_FIELDS,
    Level,
    body_tags,
    stream_exclusive_fields,
    stream_tag,
)

ERROR_BODY = "responses/400/content/application~1json/schema"
BOUND_KEYWORDS = ("minimum", "maximum")
COUNT_FIELD = "n"
"""The field `Case.requested_n` reads: the number of images asked for."""
WHOLE_BODY = ("", "body", "request", "requestBody")


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
    id="ERR-NEGATIVE-4XX",
    level=Level.MUST,
    statement="A request that breaks the spec is rejected with a 4xx status (not 2xx, not 5xx).",
    pointer="requestBody/content/application~1json/schema",
    rationale="The request schema is the contract; invalid input passed on or crashing the "
    "gateway breaks it. 401/403/429 are environment (ruling).",
    applies_to=("negative",),
)
def negative_4xx(ctx: ExchangeContext) -> list[Problem] | None:
    if ctx.case.expect != "reject" or not _judged(ctx) or TRAILING_DATA in ctx.case.tags:
        return None  # trailing data: ERR-TRAILING-DATA, a SHOULD
    if _is_4xx(ctx):
        return []
    rule = f" ({ctx.case.rule})" if ctx.case.rule else ""
    return [
        Problem(
            f"expected a 4xx for a request that breaks the spec{rule}, got {ctx.status}"
            f"{_clamped(ctx)}",
            expected="4xx",
            actual=str(ctx.status),
        )
    ]


@check(
    id="ERR-TRAILING-DATA",
    level=Level.SHOULD,
    statement="A body with data after its JSON object (`{...} junk`) is rejected with a 4xx.",
    pointer="requestBody/content/application~1json",
    rationale="A JSON text is one value (RFC 8259), so the body is not JSON; a decoder that "
    "stops after the first value hides a client's broken framing. A warning: the request's "
    "object itself is valid and common decoders take it (rulings leave it at SHOULD).",
    applies_to=("negative",),
)
def trailing_data(ctx: ExchangeContext) -> list[Problem] | None:
    if TRAILING_DATA not in ctx.case.tags or not _judged(ctx):
        return None
    if _is_4xx(ctx):
        return []
    return [
        Problem(
            f"expected a 4xx for a JSON object followed by more data, got {ctx.status}",
            expected="4xx",
            actual=str(ctx.status),
        )
    ]


@check(
    id="ERR-VALID-ACCEPTED",
    level=Level.MUST,
    statement="A request valid per the spec is not rejected with a 4xx (except the rulings: a "
    "rejection of an empty prompt or of `response_format` with `stream: true`).",
    pointer="requestBody/content/application~1json/schema",
    rationale="Rejecting valid input breaks the contract; the rulings allow rejecting an empty "
    "prompt and response_format on streams (a status other than the declared 400 is left to "
    "PROTO-STATUS-DECLARED), unknown fields are judged as SHOULD, 401/403/429 skipped.",
    applies_to=("valid",),
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
    id="ERR-ENVELOPE-SCHEMA",
    level=Level.MUST,
    statement="A 4xx/5xx JSON body validates against the declared error schema (incl. the "
    "provider enum).",
    pointer=ERROR_BODY,
    rationale="Envelope fields are optional, but where present they must have the declared types "
    "and enums (ruling); the spec gives one envelope (`Error response from Bifrost`) for its "
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
    id="ERR-STATUS-CODE-MATCH",
    level=Level.MUST,
    statement="`status_code` in an error body, when present, equals the HTTP status.",
    pointer=f"{ERROR_BODY}/properties/status_code",
    rationale="A status_code that contradicts the HTTP status misleads every client that reads it "
    "(ruling).",
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
    id="ERR-MESSAGE",
    level=Level.SHOULD,
    statement="An error body carries a non-empty `error.message`.",
    pointer=f"{ERROR_BODY}/properties/error/properties/message",
    rationale="The envelope's fields are all optional in the schema, so a missing message is a "
    "warning (ruling), though a caller needs it to act on the error.",
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
    id="ERR-UNKNOWN-FIELDS-ACCEPTED",
    level=Level.SHOULD,
    statement="A valid request carrying fields the spec does not name is not rejected.",
    pointer="requestBody/content/application~1json/schema",
    rationale="The schema sets no additionalProperties: false, so unknown fields are valid input; "
    "rejecting them is a warning, not a failure (ruling).",
    applies_to=("unknown-fields",),
)
def unknown_fields_accepted(ctx: ExchangeContext) -> list[Problem] | None:
    if UNKNOWN_FIELDS not in _tags(ctx) or not ctx.valid_request or not _judged(ctx):
        return None
    if ctx.provoked_upstream_failure:
        return None  # the suite asked the upstream to fail: the MAP- checks judge the answer
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
    id="ERR-EMPTY-PROMPT",
    level=Level.MAY,
    statement="An empty prompt is answered with 200 or 400; either is recorded as conforming.",
    pointer="requestBody/content/application~1json/schema/properties/prompt",
    rationale="An empty prompt is schema-valid but no provider can draw nothing, so both 200 and "
    "400 conform (ruling); other answers are only an observation.",
    applies_to=("empty-prompt",),
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


@check(
    id="ERR-PARAM-NAMES-FIELD",
    level=Level.SHOULD,
    statement="On a request that breaks one field, an `error.param` that is present names that "
    "field (as its name, a dotted path or a JSON pointer).",
    pointer=f"{ERROR_BODY}/properties/error/properties/param",
    rationale="`param` is optional and the spec does not say how it names a field, so naming it "
    "any common way passes; naming another field misleads the caller, a warning since the "
    "envelope's fields are all optional (ruling).",
)
def param_names_field(ctx: ExchangeContext) -> list[Problem] | None:
    field = _broken_field(ctx)
    body = ctx.body
    error = body.get("error") if isinstance(body, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    if field is None or not _error_answer(ctx) or not isinstance(param, str):
        return None
    named = _first_token(param)
    if named in WHOLE_BODY:
        return None  # names the body, not a field: no field to compare
    if named == field:
        return []
    return [
        Problem(
            f"expected error.param to name {field} (the field the request breaks, "
            f"{ctx.case.rule}), got {short(param)}",
            expected=field,
            actual=param,
        )
    ]


def _broken_field(ctx: ExchangeContext) -> str | None:
    """The body field a negative case breaks (`type:n` -> `n`), None for other cases."""
    if ctx.case.expect != "reject":
        return None
    _, _, name = (ctx.case.rule or "").partition(":")
    return name if name in ctx.op.properties else None


def _first_token(param: str) -> str:
    """The first field a param names: `n`, `body.n`, `/n`, `#/fallbacks/0`, `$.fallbacks[0]`
    (`body` alone, or nothing, for the body as a whole)."""
    tokens = [t for t in re.split(r"[./\[\]]", param.strip().lstrip("#$")) if t]
    if len(tokens) > 1 and tokens[0] == "body":
        tokens = tokens[1:]
    return tokens[0].replace("~1", "/").replace("~0", "~") if tokens else ""


@check(
    id="ERR-MODEL-REQUESTED",
    level=Level.SHOULD,
    statement="Bifrost's `extra_fields.model_requested`, when present in an error or a 200 "
    "body, is the model the request asked for.",
    pointer=f"{ERROR_BODY}/properties/extra_fields/properties/model_requested",
    rationale="The envelope describes the request it answers; another model there misleads "
    "whoever debugs the error or bills the success, a warning since the field is optional and "
    "its meaning only named (ruling). The `provider` enum is ERR-ENVELOPE-SCHEMA's.",
)
def model_requested(ctx: ExchangeContext) -> list[Problem] | None:
    body = ctx.body
    extra = body.get("extra_fields") if isinstance(body, dict) else None
    reported = extra.get("model_requested") if isinstance(extra, dict) else None
    sent = ctx.case.body.get(MODEL_FIELD) if isinstance(ctx.case.body, dict) else None
    success = ctx.status == 200 and not ctx.exchange.is_stream
    answer = _error_answer(ctx) or (_judged(ctx) and success)
    if not answer or not isinstance(reported, str) or not isinstance(sent, str):
        return None
    if reported == sent:
        return []
    return [
        Problem(
            f"expected extra_fields.model_requested {short(sent)} (the request's model), got "
            f"{short(reported)}",
            expected=sent,
            actual=reported,
        )
    ]


def _clamped(ctx: ExchangeContext) -> str:
    """`: n clamped to B` when a count outside its bound was answered with B images."""
    keyword, _, name = (ctx.case.rule or "").partition(":")
    if name != COUNT_FIELD or keyword not in BOUND_KEYWORDS or ctx.status != 200:
        return ""
    bound = ctx.op.field_schema(name).get(keyword)
    body = ctx.body
    data = body.get("data") if isinstance(body, dict) else None
    if is_int(bound) and isinstance(data, list) and len(data) == bound:
        return f": {name} clamped to {bound} ({len(data)} images came back)"
    return ""


def _message_suffix(ctx: ExchangeContext) -> str:
    body = ctx.body
    error = body.get("error") if isinstance(body, dict) else None
    text = error.get("message") if isinstance(error, dict) else None
    return f" ({short(text)})" if isinstance(text, str) and text else ""
