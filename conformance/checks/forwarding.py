"""Two-sided checks: what the gateway sent its upstream, and what it made of the answer.

They judge the two-sided cases (conformance.plan.upstream) of a run whose upstream records the
suite can read (`conformance run --upstream URL`, or the embedded pair). The records of one
exchange are the upstream requests whose body carried the case's token. Rulings: "Gateways and
their upstream" (a gateway forwards what the client sent, only `fallbacks` may be dropped, the
client's credential never goes upstream; an upstream 4xx keeps its status and code, a 429 stays
429, a 5xx becomes a 5xx envelope; fallbacks in order; one upstream call without fallbacks).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from conformance.checks._util import same_json, short
from conformance.checks.leaks import CREDENTIAL_HEADERS, credentials, find_leaks
from conformance.checks.registry import ExchangeContext, Problem, UpstreamView, check
from conformance.model import (
    FALLBACKS_FIELD,
    SHARED_BODY,
    UPSTREAM,
    Level,
    fallback_names,
    provoked_fault,
)

RULING = "rulings, Gateways and their upstream"
UPSTREAM_ONLY = ("upstream",)
"""Every check here reads the upstream records of a two-sided case (`_upstream`)."""
REQUEST = "requestBody/content/application~1json/schema"
GATEWAY_ONLY = {FALLBACKS_FIELD}
MIN_UPSTREAM_SPREAD_S = 0.2
KEPT_SPREAD = 0.25
"""A relayed stream's events stay spread over at least this share of the upstream's spread."""
FAILED = (429, 500, 501, 502, 503, 504)
"""Upstream answers after which the fallbacks must be tried."""
REQUEST_CAUSED = (400, 413, 415, 422)
"""Upstream refusals of the request itself (invalid input, content policy): a fallback may be
tried after them but should not be (rulings, 2026-12-07: Bifrost tries fallbacks on any
error)."""


class _Upstream(NamedTuple):
    """What the gateway did upstream for one two-sided case."""

    view: UpstreamView
    records: list[dict[str, Any]]
    """The upstream requests that carried the case's token (for a body another case sent too,
    only those for this case's deployment)."""


def _upstream(ctx: ExchangeContext, wanted: bool = True) -> _Upstream | list[Problem] | None:
    """What every check here judges, read once: None when there is nothing to judge (not a
    two-sided case, no answer, or not `wanted`: the check's own condition on the case), the
    suite's error when the upstream's records could not be read (never a pass)."""
    view = ctx.upstream
    if UPSTREAM not in ctx.case.tags or view is None or not ctx.answered or not wanted:
        return None
    if view.error:
        return [Problem(f"the upstream's records could not be read: {view.error}", error=True)]
    records = view.records
    if SHARED_BODY in ctx.case.tags:  # another case sent this body: only this case's calls
        records = [r for r in records if _this_deployment(r, _client_deployment(ctx), view)]
    return _Upstream(view, records)


def _this_deployment(record: dict[str, Any], deployment: str | None, view: UpstreamView) -> bool:
    """Whether a record of a body sent again (for another deployment) is this case's call: one
    for its deployment; on a route that names none (OpenAI's), one the earlier case of the
    chain was not judged with (it was answered, and judged, before this case was sent)."""
    if record.get("route") == "azure" or record.get("deployment") is not None:
        return bool(record.get("deployment") == deployment)
    return record.get("seq") not in view.earlier


def _sent_body(ctx: ExchangeContext) -> dict[str, Any]:
    body = ctx.case.body
    return body if isinstance(body, dict) else {}


def _upstream_body(record: dict[str, Any]) -> dict[str, Any] | None:
    body = record.get("body")
    return body if isinstance(body, dict) else None


def _client_deployment(ctx: ExchangeContext) -> str | None:
    """The deployment the suite asked for: in the path it sent (decoded), or else in a header
    that names it (a profile whose route has no deployment may carry it so, e.g. Portkey's
    `x-portkey-azure-deployment-id`); None when the request names none."""
    if ctx.op.path_parameters:
        match = re.search(ctx.op.path_regex() + "$", urlsplit(ctx.exchange.request.url).path)
        if match:
            return unquote(match["deployment"])
    headers = ctx.exchange.request.headers
    named = (v for k, v in headers.items() if k.lower().endswith(("-deployment-id", "-deployment")))
    return next(named, None)


def _client_api_version(ctx: ExchangeContext) -> str | None:
    """The api-version the client chose: the query parameter, or else a header that names it
    (a profile may carry it so, e.g. Portkey's `x-portkey-azure-api-version`)."""
    values = parse_qs(urlsplit(ctx.exchange.request.url).query).get("api-version")
    if values:
        return values[0]
    headers = ctx.exchange.request.headers
    return next((v for k, v in headers.items() if k.lower().endswith("api-version")), None)


def _nested(body: Any, name: str, path: str = "") -> str | None:
    """Where `name` sits inside a nested object of `body` (dotted), or None."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if isinstance(value, dict):
            if name in value:
                return f"{path}{key}.{name}"
            found = _nested(value, name, f"{path}{key}.")
            if found:
                return found
    return None


@check(
    id="FWD-FIELDS",
    level=Level.MUST,
    statement="Every field of the request body (but the prompt, judged apart, and the "
    "gateway-only `fallbacks`) reaches the upstream unchanged, at the top level of its body.",
    pointer=REQUEST,
    rationale=f"A dropped, changed or wrapped parameter silently changes what is generated; only "
    f"`fallbacks` is the gateway's own ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def fields(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx)
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    if not records:
        return None  # UPSTREAM-CALLS reports a request that never reached the upstream
    upstream = _upstream_body(records[0])
    if upstream is None:
        return [
            Problem(
                "the upstream received a body that is not a JSON object",
                "an object",
                short(records[0].get("body_text")),
            )
        ]
    problems = []
    for name, value in _sent_body(ctx).items():
        if name in GATEWAY_ONLY or name == "prompt" or name not in ctx.op.properties:
            continue  # unknown fields: FWD-UNKNOWN-FIELDS, a SHOULD
        if name not in upstream:
            where = _nested(upstream, name)
            said = f"wrapped into {where}" if where else "dropped"
            problems.append(
                Problem(
                    f"field {name} did not reach the upstream as sent: {said}",
                    f"{name}={short(value)}",
                    where or "absent",
                )
            )
        elif name != "model" and not same_json(upstream[name], value):
            problems.append(
                Problem(
                    f"field {name} reached the upstream changed",
                    short(value),
                    short(upstream[name]),
                )
            )
    return problems


@check(
    id="FWD-UNKNOWN-FIELDS",
    level=Level.SHOULD,
    statement="Request fields the document does not name reach the upstream unchanged, at the "
    "top level of its body.",
    pointer=REQUEST,
    rationale="Unknown fields are valid input (no additionalProperties: false) and the provider "
    "may understand them; a gateway that rebuilds the body from the fields it knows drops them. "
    "A warning: the document does not promise them (rulings, 2026-12-07).",
    applies_to=UPSTREAM_ONLY,
)
def unknown_fields(ctx: ExchangeContext) -> list[Problem] | None:
    unknown = {k: v for k, v in _sent_body(ctx).items() if k not in ctx.op.properties}
    found = _upstream(ctx, wanted=bool(unknown))
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    upstream = _upstream_body(records[0]) if records else None
    if upstream is None:
        return None  # FWD-FIELDS and UPSTREAM-CALLS report these
    return [
        Problem(
            f"unknown field {name} did not reach the upstream as sent",
            f"{name}={short(value)}",
            short(upstream[name]) if name in upstream else "absent",
        )
        for name, value in unknown.items()
        if name not in GATEWAY_ONLY and not (name in upstream and same_json(upstream[name], value))
    ]


@check(
    id="FWD-PROMPT",
    level=Level.MUST,
    statement="The prompt reaches the upstream exactly as sent (no trimming, rewriting or "
    "prefixing).",
    pointer=f"{REQUEST}/properties/prompt",
    rationale=f"The prompt is the request; a gateway forwards what the client sent ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def prompt(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx)
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    sent = _sent_body(ctx).get("prompt")
    if not records or not isinstance(sent, str):
        return None
    problems = []
    for number, record in enumerate(records):
        got = (_upstream_body(record) or {}).get("prompt")
        if got != sent:
            problems.append(
                Problem(
                    f"upstream call {number + 1} carried another prompt{_difference(sent, got)}",
                    short(sent),
                    short(got),
                )
            )
    return problems


def _difference(sent: str, got: Any) -> str:
    """Where the upstream's prompt first departs from the client's, code point by code point."""
    if not isinstance(got, str):
        return f": {type(got).__name__}, not a string"
    at = next((i for i, (a, b) in enumerate(zip(sent, got, strict=False)) if a != b), None)
    if at is None:
        return (
            f": cut to {len(got)} of {len(sent)} characters"
            if len(got) < len(sent)
            else (f": {len(got) - len(sent)} characters added at the end")
        )
    return (
        f": from character {at} on, {sent[at : at + 8]!r} (U+{ord(sent[at]):04X}) arrived as "
        f"{got[at : at + 8]!r}"
    )


@check(
    id="FWD-DEPLOYMENT",
    level=Level.MUST,
    statement="The deployment in the path selects the upstream deployment, and the body's model "
    "reaches the upstream as sent: neither is substituted for the other.",
    pointer="parameters",
    rationale="Sending the deployment name as the model, or the model as the deployment, calls "
    f"another model than the client chose ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def deployment(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx)
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    if not records:
        return None
    first = records[0]
    problems = []
    wanted = _client_deployment(ctx)
    if first.get("route") == "azure" and wanted is not None and first.get("deployment") != wanted:
        problems.append(
            Problem(
                "the upstream was called for another deployment",
                wanted,
                str(first.get("deployment")),
            )
        )
    model = _sent_body(ctx).get("model")
    got = (_upstream_body(first) or {}).get("model", model)
    if isinstance(model, str) and got != model:
        problems.append(
            Problem("the upstream received another model than the body's", model, short(got))
        )
    return problems


@check(
    id="FWD-API-VERSION",
    level=Level.MUST,
    statement="The api-version the client sent reaches the upstream (Azure route) unchanged.",
    pointer="parameters",
    rationale="The api-version selects the provider's API contract; the client chose it, the "
    f"gateway forwards what the client sent ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def api_version(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx)
    if not isinstance(found, _Upstream):
        return found
    sent = _client_api_version(ctx)
    azure = [r for r in found.records if r.get("route") == "azure"]
    if sent is None or not azure:
        return None
    return [
        Problem("the upstream received another api-version", sent, str(r.get("api_version")))
        for r in azure
        if r.get("api_version") != sent
    ]


@check(
    id="FWD-NO-CLIENT-CREDENTIAL",
    level=Level.MUST,
    statement="The client's credential (api-key, Authorization, ...) never reaches the upstream: "
    "not in a header, the query or any body value, not encoded (base64, percent), not in part.",
    pointer="parameters",
    rationale="The client's key authenticates it to the gateway; passing it on, whole, encoded or "
    f"in part (8 characters or more), leaks it to a third party ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def no_client_credential(ctx: ExchangeContext) -> list[Problem] | None:
    passes = ctx.upstream is not None and ctx.upstream.credential_passes
    found = _upstream(ctx, wanted=not passes)
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    request = ctx.exchange.request
    secrets = credentials(request.headers)
    if not secrets or not records:
        return None
    elsewhere = [
        request.url,
        json.dumps(_sent_body(ctx), ensure_ascii=False),
        *(v for k, v in request.headers.items() if k.lower() not in CREDENTIAL_HEADERS),
    ]
    problems = []
    for number, record in enumerate(records):
        for secret in secrets:
            for leak in find_leaks(secret, record, elsewhere):
                problems.append(
                    Problem(
                        f"upstream call {number + 1} carried the client's credential "
                        f"({leak.form}) in {leak.place}",
                        "the gateway's own key only",
                        f"{leak.place}: {leak.form}",
                    )
                )
    return problems


def _final(ctx: ExchangeContext) -> dict[str, Any] | list[Problem] | None:
    """The last upstream answer of a case that provoked an upstream failure (`_upstream`)."""
    found = _upstream(ctx, wanted=provoked_fault(ctx.case) is not None)
    if not isinstance(found, _Upstream):
        return found
    return found.records[-1] if found.records else None


def _envelope_problem(ctx: ExchangeContext) -> Problem | None:
    body = ctx.body
    if ctx.parsed and isinstance(body, dict) and isinstance(body.get("error"), dict):
        return None
    return Problem(
        "the error answer is not a JSON error envelope",
        "an envelope with error",
        short(ctx.exchange.body[:80]),
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@check(
    id="MAP-UPSTREAM-4XX",
    level=Level.MUST,
    statement="An upstream 4xx (content policy, 429 included) keeps its status, and the "
    "provider's error code (429 aside) appears in the answer.",
    pointer="responses/400",
    rationale="The client's request was refused upstream; a 500 tells it to retry what will fail "
    f"again and hides the provider's reason ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def upstream_4xx(ctx: ExchangeContext) -> list[Problem] | None:
    final = _final(ctx)
    if isinstance(final, list):
        return final
    status = final.get("status") if final else None
    if not isinstance(status, int) or not 400 <= status < 500:
        return None
    problems = []
    if ctx.status != status:
        problems.append(
            Problem(
                f"the upstream answered {status}, the gateway {ctx.status}",
                str(status),
                str(ctx.status),
            )
        )
    code = final.get("error_code") if final else None
    if status != 429 and isinstance(code, str) and code not in _strings(ctx.body):
        problems.append(
            Problem(f"the provider's error code {code} is not in the answer", code, short(ctx.body))
        )
    return problems


@check(
    id="MAP-UPSTREAM-429",
    level=Level.SHOULD,
    statement="An upstream 429 is answered with its Retry-After header kept.",
    pointer="responses",
    rationale=f"Retry-After tells the client when to come back; keeping it is a SHOULD ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def upstream_429(ctx: ExchangeContext) -> list[Problem] | None:
    final = _final(ctx)
    if isinstance(final, list):
        return final
    if not final or final.get("status") != 429 or not final.get("retry_after"):
        return None
    if ctx.status != 429:
        return None  # MAP-UPSTREAM-4XX judges the status
    if ctx.exchange.headers.get("retry-after"):
        return []
    return [
        Problem(
            "the upstream's Retry-After was not passed on",
            f"Retry-After: {final['retry_after']}",
            f"{ctx.status}, Retry-After: {ctx.exchange.headers.get('retry-after')}",
        )
    ]


@check(
    id="MAP-UPSTREAM-5XX",
    level=Level.MUST,
    statement="An upstream 5xx (or a body that is not JSON) is answered with a 5xx and the error "
    "envelope.",
    pointer="responses/500",
    rationale="The failure is the provider's, not the client's: a 4xx or 2xx misleads it, a bare "
    f"body gives it nothing to act on ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def upstream_5xx(ctx: ExchangeContext) -> list[Problem] | None:
    final = _final(ctx)
    if isinstance(final, list):
        return final
    status = final.get("status") if final else None
    if not isinstance(status, int) or status < 500 or FALLBACKS_FIELD in _sent_body(ctx):
        return None
    if not 500 <= (ctx.status or 0) < 600:
        return [
            Problem(
                f"the upstream answered {status}, the gateway {ctx.status}", "5xx", str(ctx.status)
            )
        ]
    problem = _envelope_problem(ctx)
    return [problem] if problem else []


def _fallbacks(ctx: ExchangeContext) -> list[str]:
    """The models of the `fallbacks` the case sent (none: the fallback checks judge nothing)."""
    return fallback_names(_sent_body(ctx).get(FALLBACKS_FIELD))


@check(
    id="FALLBACK-ORDER",
    level=Level.MUST,
    statement="With `fallbacks`, after a failed upstream call the fallbacks are tried in order, "
    "no more, and the answer comes from the first that succeeds.",
    pointer=f"{REQUEST}/properties/fallbacks",
    rationale="`fallbacks` are 'Fallback models to try if primary model fails' (spec); in order, "
    f"and no more ({RULING}).",
    applies_to=UPSTREAM_ONLY,
)
def fallback_order(ctx: ExchangeContext) -> list[Problem] | None:
    fallbacks = _fallbacks(ctx)
    found = _upstream(ctx, wanted=bool(fallbacks))
    if not isinstance(found, _Upstream):
        return found
    view, records = found
    if not records:
        return None
    primary = (_client_deployment(ctx), _sent_body(ctx).get("model"))
    expected = [primary, *[(f, f) for f in fallbacks]]
    problems: list[Problem] = []
    target, calls = 0, 0  # the target being called, and how often so far
    for number, record in enumerate(records):
        names = {record.get("deployment"), record.get("model")}
        if names & set(expected[target]) and calls < view.max_calls:
            calls += 1  # the first call, or a retry the target profile declares
        elif calls and target + 1 < len(expected) and names & set(expected[target + 1]):
            target, calls = target + 1, 1
        else:
            wanted = (
                "the primary"
                if target == 0 and calls == 0
                else (f"fallback {fallbacks[target]}" if target < len(fallbacks) else "none")
            )
            problems.append(
                Problem(
                    f"upstream call {number + 1} was not {wanted} (at most {view.max_calls} "
                    f"calls per target, {len(fallbacks)} fallbacks)",
                    str(expected[min(target + 1, len(expected) - 1)][1]),
                    short(sorted(map(str, names))),
                )
            )
            break
        status = record.get("status")
        if status not in FAILED and status not in REQUEST_CAUSED and number < len(records) - 1:
            problems.append(
                Problem(
                    f"upstream call {number + 1} answered "
                    f"{record.get('status')} and yet more calls followed"
                )
            )
            break
    last = records[-1].get("status")
    if last in FAILED and target < len(fallbacks) and not problems:
        untried = ", ".join(str(f) for f in fallbacks[target:])
        problems.append(
            Problem(
                f"the upstream answered {last} and fallbacks were not tried: {untried}",
                "the next fallback tried",
                "none",
            )
        )
    if last == 200 and ctx.status != 200:
        problems.append(
            Problem(
                f"a fallback succeeded upstream, the gateway answered {ctx.status}",
                "200",
                str(ctx.status),
            )
        )
    return problems


@check(
    id="FALLBACK-NOT-ON-REFUSAL",
    level=Level.SHOULD,
    statement="With `fallbacks`, an upstream refusal that the request caused (400 invalid "
    "input or content policy, 413, 415, 422) is answered without trying the fallbacks.",
    pointer=f"{REQUEST}/properties/fallbacks",
    rationale="Another model refuses the same prompt too: the fallbacks cost calls and time for "
    "nothing. A warning, not a failure: Bifrost itself tries fallbacks on any primary error "
    "(rulings, 2026-12-07).",
    applies_to=UPSTREAM_ONLY,
)
def fallback_not_on_refusal(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx, wanted=bool(_fallbacks(ctx)))
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    refused = next((n for n, r in enumerate(records) if r.get("status") in REQUEST_CAUSED), None)
    if refused is None:
        return None
    spent = len(records) - refused - 1
    if not spent:
        return []
    return [
        Problem(
            f"upstream call {refused + 1} refused the request "
            f"({records[refused].get('status')} {records[refused].get('error_code')}) and "
            f"{spent} more call(s) followed",
            "no call after the refusal",
            f"{spent} call(s)",
        )
    ]


@check(
    id="UPSTREAM-CALLS",
    level=Level.MUST,
    statement="A request without `fallbacks` reaches the upstream (a body repeated for another "
    "deployment too: no cache answers for it), and causes at most the target profile's number "
    "of upstream calls (default one: no retry storm).",
    pointer="",
    rationale="Retries the caller did not ask for multiply the provider's cost and load; the "
    f"profile declares a gateway's retries ({RULING}). A cache that answers for another "
    "deployment serves another model's images (rulings, 2026-12-07).",
    applies_to=UPSTREAM_ONLY,
)
def upstream_calls(ctx: ExchangeContext) -> list[Problem] | None:
    found = _upstream(ctx, wanted=FALLBACKS_FIELD not in _sent_body(ctx))
    if not isinstance(found, _Upstream):
        return found
    view, records = found
    if not records and SHARED_BODY in ctx.case.tags:
        return [
            Problem(
                f"the same body, sent before for another deployment, was answered {ctx.status} "
                f"without a call to deployment {_client_deployment(ctx)}: a cache answered for "
                "another deployment",
                "one upstream call for this deployment",
                "none",
            )
        ]
    if not records:
        return [
            Problem(
                "no upstream request carried the case's token: the gateway answered "
                f"{ctx.status} without calling the upstream (or calls another one)",
                "one upstream call",
                "none",
            )
        ]
    if len(records) > view.max_calls:
        return [
            Problem(
                f"{len(records)} upstream calls for one request",
                f"at most {view.max_calls}",
                str(len(records)),
            )
        ]
    return []


@check(
    id="STREAM-NOT-BUFFERED",
    level=Level.MUST,
    statement="A streamed upstream answer reaches the client as a stream, event by event: not "
    "replaced by JSON, not held back and sent at once.",
    pointer="responses/200/content/text~1event-stream",
    rationale="`stream: true` sends images 'as base64 chunks via SSE' (spec); a buffered stream "
    "gives the caller nothing until the end, which is what streaming exists to avoid.",
    applies_to=UPSTREAM_ONLY,
    timing=True,
)
def stream_not_buffered(ctx: ExchangeContext) -> list[Problem] | None:
    """Held back means both: the first event came after the upstream sent its last (the
    client's clock starts before the upstream's, so no clock sync is needed), and the events
    came bunched (their spread under `KEPT_SPREAD` of the upstream's). A gateway that is slow
    to call the upstream, or stalls once mid-stream, meets only one of the two."""
    found = _upstream(ctx, wanted=ctx.streamed and ctx.status == 200)
    if not isinstance(found, _Upstream):
        return found
    records = found.records
    timing = records[-1].get("stream") if records else None
    if not isinstance(timing, dict) or not timing.get("events"):
        return None
    if not ctx.exchange.is_stream:
        return [
            Problem(
                "the upstream streamed, the gateway answered with one body",
                "text/event-stream",
                ctx.exchange.media_type or "none",
            )
        ]
    first, last = timing.get("first_event_s"), timing.get("last_event_s")
    if not isinstance(first, float | int) or not isinstance(last, float | int):
        return None
    events = ctx.exchange.events or []
    spread = last - first
    if spread < MIN_UPSTREAM_SPREAD_S or len(events) < 2:
        return None  # too short a stream to tell relaying from buffering
    relayed = events[-1].t_s - events[0].t_s
    if events[0].t_s < last or relayed >= KEPT_SPREAD * spread:
        return []
    return [
        Problem(
            f"the upstream sent its events over {spread:.2f}s, the last "
            f"{last:.2f}s after it was called; the client got the first "
            f"{events[0].t_s:.2f}s after its request and all within {relayed:.2f}s: "
            "the stream was held back and sent at once",
            f"events spread over at least {KEPT_SPREAD * spread:.2f}s",
            f"{relayed:.2f}s",
        )
    ]
