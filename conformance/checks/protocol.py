"""Protocol checks: every request gets a complete, declared, well-typed, parseable answer."""

from __future__ import annotations

from conformance.checks.registry import ExchangeContext, Problem, check
from conformance.model import CUT_KINDS, ENVIRONMENT_STATUSES, Level
from conformance.model import TransportErrorKind as Kind
from conformance.spec import JSON, SSE

INCOMPLETE_KINDS = {
    Kind.TIMEOUT: "the gateway stopped answering before the response was complete",
    Kind.RESET: "the connection broke in the middle of the response",
    Kind.PROTOCOL: "the response broke the HTTP protocol",
    Kind.DECODING: "the response's content-encoding could not be decoded",
    Kind.BODY_TOO_LARGE: "the body exceeded the size bound and was cut",
    Kind.DEADLINE: "the response was still incomplete at the deadline",
    Kind.TOO_MANY_REDIRECTS: "the response redirected more often than the bound allows",
}


@check(
    id="PROTO-RESPONDS",
    level=Level.MUST,
    statement="Every request gets a complete HTTP response: no timeout, reset, protocol or "
    "decoding error, no endless or oversized body.",
    pointer="responses",
    rationale="The operation declares a response for every request; a broken or endless answer "
    "gives the caller nothing to act on.",
)
def responds(ctx: ExchangeContext) -> list[Problem] | None:
    kind = ctx.exchange.transport_error
    if kind is None or kind is Kind.LINGER:
        # A stream that delivered every expected event and then stayed open answered whole:
        # how it ends is SSE-TERMINATES's to judge, once.
        return [] if ctx.status is not None else None
    if ctx.exchange.is_stream and kind in CUT_KINDS:
        return None  # a stream cut at a bound did not end: SSE-TERMINATES fails it, once
    if kind not in INCOMPLETE_KINDS:
        return None  # unreachable target or a client-side failure: not the gateway's answer
    detail = ctx.exchange.transport_detail
    return [
        Problem(
            f"expected a complete response, got {kind}: {INCOMPLETE_KINDS[kind]} ({detail})",
            expected="a complete response",
            actual=f"{kind}: {detail}",
        )
    ]


@check(
    id="PROTO-NO-5XX",
    level=Level.MUST,
    statement="No request, valid or invalid, is answered with a 5xx status.",
    pointer="responses",
    rationale="The spec answers invalid input with 400 (`Bad request`) and valid input with 200; "
    "its declared 500 (`Internal server error`) documents a failure, not a conforming answer, so "
    "a 5xx is a defect whatever was sent.",
)
def no_5xx(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.answered or ctx.provoked_upstream_failure:
        return None  # a failure the suite provoked upstream is judged by the MAP- checks
    status = ctx.status or 0
    if status < 500:
        return []
    return [Problem(f"expected a status below 500, got {status}", "< 500", str(status))]


@check(
    id="PROTO-STATUS-DECLARED",
    level=Level.SHOULD,
    statement="The response status is one the operation declares (401, 403 and 429 are "
    "environment).",
    pointer="responses",
    rationale="OpenAPI response lists are not exhaustive by rule, so an undeclared status is a "
    "warning; 401/403/429 describe credentials or quota (ruling), not conformance.",
)
def status_declared(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.answered or ctx.status in ENVIRONMENT_STATUSES:
        return None
    if ctx.provoked_upstream_failure:
        return None  # e.g. a 502 for a failure the suite provoked upstream: MAP- checks judge it
    status = ctx.status or 0
    if ctx.op.is_declared(status):
        return []
    if _outcome_status(ctx):
        return None  # an undocumented outcome: PROTO-STATUS-DOCUMENTED fails it at MUST
    declared = ", ".join(ctx.op.declared_statuses)
    return [
        Problem(
            f"expected one of the declared statuses {declared}, got {status}",
            expected=declared,
            actual=str(status),
        )
    ]


def _outcome_status(ctx: ExchangeContext) -> bool:
    """A 2xx answer to a valid request, or a 4xx answer to an invalid one: a status that says
    the request's outcome, which clients and SDKs branch on."""
    status = ctx.status or 0
    if ctx.valid_request:
        return 200 <= status < 300
    return ctx.case.expect == "reject" and 400 <= status < 500


@check(
    id="PROTO-STATUS-DOCUMENTED",
    level=Level.MUST,
    statement="A valid request that succeeds is answered with a success status the operation "
    "documents (200), an invalid one with an error status it documents (400): not 201, 202, "
    "422 or 415.",
    pointer="responses",
    rationale="Clients and the official SDKs branch on the documented codes; a success or a "
    "rejection under another code breaks them (rulings, Inputs and statuses). A status the "
    "document covers with `4XX` or `default` is documented; 401/403/429 are environment.",
)
def status_documented(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.answered or ctx.status in ENVIRONMENT_STATUSES or ctx.provoked_upstream_failure:
        return None
    if not _outcome_status(ctx):
        return None  # other statuses: PROTO-STATUS-DECLARED, PROTO-NO-5XX, ERR-NEGATIVE-4XX
    status = ctx.status or 0
    if ctx.op.is_declared(status):
        return []
    family = "2" if status < 300 else "4"
    documented = [s for s in ctx.op.declared_statuses if s[:1] == family] or ["none"]
    what = "success" if family == "2" else "rejection of invalid input"
    return [
        Problem(
            f"expected a documented status for a {what} ({', '.join(documented)}), got {status}",
            expected=", ".join(documented),
            actual=str(status),
        )
    ]


@check(
    id="PROTO-CONTENT-TYPE",
    level=Level.MUST,
    statement="The Content-Type is one the spec declares for the status (parameters such as "
    "charset allowed); a non-streamed request is not answered with a stream.",
    pointer="responses/200/content",
    rationale="The media types under `content` are what a client parses by; charset and "
    "compression are transport details (ruling); streamed answers are judged by SSE-CONTENT-TYPE.",
)
def content_type(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.answered or ctx.status in ENVIRONMENT_STATUSES:
        return None
    status = ctx.status or 0
    declared = [m.lower() for m in ctx.op.media_types(status)]
    if not declared:
        return None  # undeclared status or no content declared: nothing to compare with
    if status == 200 and ctx.valid_request and ctx.streamed:
        return None  # SSE-CONTENT-TYPE judges the answer to a valid streamed request
    if status == 200 and not ctx.streamed and len(declared) > 1 and SSE in declared:
        declared.remove(SSE)  # `stream` false (the default) asks for a single body
    actual = ctx.exchange.media_type
    if not actual and not ctx.exchange.body and not ctx.exchange.is_stream:
        return None  # an empty body has no type to judge
    if actual in declared:
        return []
    expected = " or ".join(declared)
    return [
        Problem(
            f"expected Content-Type {expected} for status {status}, got {actual or 'none'}",
            expected=expected,
            actual=ctx.exchange.headers.get("content-type", "none"),
        )
    ]


@check(
    id="PROTO-BODY-PARSES",
    level=Level.MUST,
    statement="A body sent as JSON is UTF-8 JSON that parses.",
    pointer="responses/200/content/application~1json",
    rationale="The spec declares application/json bodies for 200, 400 and 500; a body so labelled "
    "that does not parse cannot be read by any client.",
)
def body_parses(ctx: ExchangeContext) -> list[Problem] | None:
    if not ctx.answered or ctx.exchange.is_stream or not _is_json_type(ctx.exchange.media_type):
        return None
    if ctx.parsed:
        return []
    sample = ctx.exchange.body[:60]
    why = ctx.exchange.json_problem
    return [
        Problem(
            f"expected a UTF-8 JSON body, got {ctx.exchange.body_size} bytes that do not parse "
            f"(starting {sample!r})"
            if not why
            else f"expected a UTF-8 JSON body the suite can judge, got {why}",
            expected="UTF-8 JSON",
            actual=repr(sample),
        )
    ]


def _is_json_type(media_type: str) -> bool:
    return media_type == JSON or media_type.endswith("+json")
