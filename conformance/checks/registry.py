"""The check catalogue: every check's ID, level, statement, spec pointer and function.

A check is a function decorated with `@check(...)`. Exchange checks receive an
`ExchangeContext` (one case and what the gateway answered) and return:
- `None` when the check does not apply to this exchange (counted as skipped),
- an empty list when it applies and passes,
- a list of `Problem`s when it fails.
Run checks (`scope="run"`) receive a `RunContext` with every exchange of the run.

`applies_to` declares which cases a check can judge at all (see `APPLIES`), so a run limited to
some checks (`--checks`) sends only the cases one of them can judge. A declaration must be a
necessary condition of the check returning anything but `None`: the runner reports a check that
judges a case outside it as an error of the check. No declaration means every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from conformance.model import (
    EMPTY_PROMPT,
    NOT_JSON,
    PARITY_PREFIX,
    STREAM_FIELD,
    UNKNOWN_FIELDS,
    UPSTREAM,
    Case,
    Exchange,
    FetchResult,
    Level,
    body_tags,
    provoked_fault,
)
from conformance.spec import SSE, Operation, Spec

Scope = Literal["exchange", "run"]
Fetch = Callable[[str], FetchResult]
"""GET an image URL within the run's bounds and budget (a `NOT_FETCHED` result when the suite
chose not to: that says nothing of the gateway, so no check judges it)."""


@dataclass
class Problem:
    """Why a check failed on one exchange: one sentence, plus expected and actual."""

    message: str
    expected: str = ""
    actual: str = ""
    image: bytes | None = None
    error: bool = False


@dataclass(frozen=True)
class UpstreamView:
    """What reached the upstream for one two-sided exchange: the upstream's records of the
    requests that carried the case's token (oldest first), or why they could not be read."""

    records: list[dict[str, Any]]
    max_calls: int = 1
    """Upstream calls a request without fallbacks may cause (the target profile's retries)."""
    error: str | None = None
    credential_passes: bool = False
    """The target profile sends the upstream's key as the client credential (so it goes on)."""
    earlier: frozenset[int] = frozenset()
    """The `seq` of each record of this token that an earlier case of its chain (a body sent
    again, after the first was answered) was judged with: not this case's calls."""


@dataclass
class ExchangeContext:
    """What an exchange check may look at. Derived values are computed once and shared.

    `upstream` is set for the two-sided cases of a run that can read its upstream's records.
    """

    spec: Spec
    op: Operation
    exchange: Exchange
    fetch: Fetch
    cache: dict[str, Any] = field(default_factory=dict)
    upstream: UpstreamView | None = None

    @property
    def provoked_upstream_failure(self) -> bool:
        """The case asked the upstream to fail: the mapping checks judge the answer."""
        return provoked_fault(self.case) is not None

    @property
    def case(self) -> Case:
        return self.exchange.case

    @property
    def status(self) -> int | None:
        return self.exchange.status

    @property
    def body(self) -> Any:
        return self.exchange.json_body

    @property
    def parsed(self) -> bool:
        return self.exchange.json_body is not NOT_JSON

    @cached_property
    def requested_n(self) -> int:
        return self.case.requested_n(self.op)

    @cached_property
    def requested_size(self) -> str | None:
        value = self.case.field("size", self.op)
        return value if isinstance(value, str) else None

    @cached_property
    def response_format(self) -> str | None:
        value = self.case.field("response_format", self.op)
        return value if isinstance(value, str) else None

    @cached_property
    def streamed(self) -> bool:
        return self.case.streamed(self.op)

    @property
    def valid_request(self) -> bool:
        return self.case.expect == "success"

    @property
    def answered(self) -> bool:
        return self.exchange.transport_error is None and self.exchange.status is not None


@dataclass(frozen=True)
class SdkOutcome:
    """One request made through the official SDK: the exchange as its HTTP client saw it
    (status, headers), and what kept the SDK from using the answer (None: nothing)."""

    exchange: Exchange
    error: str | None


@dataclass
class RunContext:
    spec: Spec
    op: Operation
    exchanges: list[Exchange]
    fetch: Fetch
    sdk: list[SdkOutcome] | None = None
    """The official SDK's outcomes, None when it was not run (not installed)."""


def _tagged(case: Case, op: Operation, tag: str) -> bool:
    return tag in case.tags or tag in body_tags(case.body, op)


APPLIES: dict[str, Callable[[Case, Operation], bool]] = {
    "valid": lambda case, op: case.expect == "success",
    "negative": lambda case, op: case.expect == "reject",
    "json": lambda case, op: case.expect == "success" and not case.streamed(op),
    "stream": lambda case, op: case.expect == "success" and case.streamed(op),
    "parity": lambda case, op: any(t.startswith(PARITY_PREFIX) for t in case.tags),
    "unknown-fields": lambda case, op: (
        case.expect == "success" and _tagged(case, op, UNKNOWN_FIELDS)
    ),
    "empty-prompt": lambda case, op: case.expect == "success" and _tagged(case, op, EMPTY_PROMPT),
    "upstream": lambda case, op: UPSTREAM in case.tags,
}
"""The kinds of case a check may declare in `applies_to`: `valid` (the spec allows the request),
`negative` (it breaks one rule), `json` / `stream` (valid, not streamed / streamed), `parity`
(a member of a streamed-vs-JSON group), valid cases with unknown fields or an empty prompt, and
`upstream` (a two-sided case, whose upstream records the forwarding checks read)."""


ExchangeCheck = Callable[[ExchangeContext], "list[Problem] | None"]
RunCheck = Callable[[RunContext], "list[tuple[Exchange, list[Problem]]] | None"]


@dataclass(frozen=True)
class Check:
    """One requirement of the catalogue."""

    id: str
    level: Level
    statement: str
    pointer: str
    rationale: str
    family: str
    scope: Scope
    func: Callable[..., Any]
    applies_to: tuple[str, ...] = ()
    """Kinds of case (keys of `APPLIES`) the check can judge; empty: every case."""
    subject: Callable[[Operation], str | None] | None = None
    """Why the document lacks what the check judges, where its pointer cannot say (e.g. no
    error event among the stream's event types); None when the subject is declared."""
    timing: bool = False
    """Its failures may come from the suite's own clock (when the client read each byte): one
    is re-judged on a re-send of the case (`conformance.run.rejudge`)."""
    fetches: bool = False
    """The check GETs the image URLs of an answer (each one request on the wire)."""

    def applies(self, case: Case, op: Operation) -> bool:
        """Whether the check can judge an answer to `case` at all."""
        return not self.applies_to or any(APPLIES[kind](case, op) for kind in self.applies_to)

    def undeclared(self, op: Operation) -> str | None:
        """Why the document gives this check nothing to judge, read from its pointer (a stream
        check's subject is the stream): no answer of the media type it judges, no `stream`
        field for a stream check, no request field it is about, or what `subject` finds
        missing; None when it is declared."""
        parts = [p.replace("~1", "/").replace("~0", "~") for p in self.pointer.split("/")]
        if self.family == "sse" and parts[0] != "responses":
            parts = ["responses", "200", "content", SSE]  # a stream check about the request
        if parts[0] == "responses" and len(parts) >= 4 and parts[2] == "content":
            status, media = parts[1], parts[3]
            if media not in op.media_types(status):
                return f"the document declares no {media} answer for {status}"
            if media == SSE and STREAM_FIELD not in op.properties:
                return f"the request declares no {STREAM_FIELD} field"
        if parts[0] == "requestBody" and "properties" in parts[:-1]:
            name = parts[parts.index("properties") + 1]
            if name not in op.properties:
                return f"the request declares no {name} field"
        return self.subject(op) if self.subject else None

    def spec_pointer(self, op: Operation) -> str:
        """The pointer made absolute for `op` ('#/...' pointers are left as they are)."""
        if self.pointer.startswith("#"):
            return self.pointer
        return f"{op.pointer}/{self.pointer}" if self.pointer else op.pointer


REGISTRY: dict[str, Check] = {}


def check(
    *,
    id: str,
    level: Level,
    statement: str,
    pointer: str,
    rationale: str,
    scope: Scope = "exchange",
    applies_to: tuple[str, ...] = (),
    subject: Callable[[Operation], str | None] | None = None,
    timing: bool = False,
    fetches: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the check `id`.

    `pointer` is relative to the operation (e.g. `responses/200/content/application~1json/schema`)
    or absolute (`#/...`). `rationale` says in one line why the level is what it is.
    `applies_to` names the kinds of case (`APPLIES`) it can judge; empty means every case.
    `subject` says why the document lacks the check's subject where `pointer` cannot.
    `timing`: a failure may come from the suite's own clock, so it is re-judged on a re-send.
    `fetches`: it GETs image URLs (a run's request estimate counts them only then).
    """
    unknown = [kind for kind in applies_to if kind not in APPLIES]
    if unknown:
        raise ValueError(f"check {id}: unknown applies_to {unknown}; known: {sorted(APPLIES)}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        family = func.__module__.rsplit(".", 1)[-1]
        REGISTRY[id] = Check(
            id,
            level,
            statement,
            pointer,
            rationale,
            family,
            scope,
            func,
            applies_to,
            subject=subject,
            timing=timing,
            fetches=fetches,
        )
        return func

    return register


def catalogue() -> list[Check]:
    """Every registered check, ordered by family then ID."""
    from conformance import checks  # noqa: F401 - importing the package registers the families

    return sorted(REGISTRY.values(), key=lambda c: (c.family, c.id))


def get(check_id: str) -> Check:
    catalogue()
    return REGISTRY[check_id]
