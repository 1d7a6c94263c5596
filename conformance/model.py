"""What every layer shares: cases, exchanges, stream events, fetch results, levels, statuses.

The plan produces `Case`s, the client turns each into an `Exchange`, the checks judge
exchanges, the runner and the reports turn judgements into results. None of these types knows
about the transport, the generator or the reports, so every layer can import this module
without loading httpx, hypothesis or schemathesis.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Final, Literal

from conformance.json_text import KEPT_BODY_BYTES as KEPT_BODY_BYTES
from conformance.json_text import NOT_JSON as NOT_JSON
from conformance.json_text import ReadBody, read_json
from conformance.json_text import parse_json as parse_json
from conformance.json_text import parse_json_bounded as parse_json_bounded
from conformance.spec import Operation

# -- levels, statuses, verdicts ------------------------------------------------------------


class Level(StrEnum):
    """How binding a requirement is (RFC 2119)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Status(StrEnum):
    """The outcome of one check over a run."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class Verdict(StrEnum):
    CONFORMANT = "CONFORMANT"
    CONFORMANT_WITH_WARNINGS = "CONFORMANT WITH WARNINGS"
    NOT_CONFORMANT = "NOT CONFORMANT"
    INCONCLUSIVE = "INCONCLUSIVE"
    INCOMPLETE = "INCOMPLETE"


class TransportErrorKind(StrEnum):
    """Why an exchange has no complete answer (`Exchange.transport_error`)."""

    CONNECT = "connect"
    TIMEOUT = "timeout"
    DEADLINE = "deadline"
    DECODING = "decoding"
    PROTOCOL = "protocol"
    RESET = "reset"
    BODY_TOO_LARGE = "body-too-large"
    STREAM_TOO_LONG = "stream-too-long"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    TRANSPORT = "transport"
    ABORTED = "aborted"
    """Cut by the suite (the run was stopped): says nothing of the gateway."""
    NOT_FETCHED = "not-fetched"
    """A URL the suite chose not to fetch (budget spent, address not allowed): not judged."""
    LINGER = "linger"
    """A stream that delivered every expected event, then stayed open past the grace window:
    SSE-TERMINATES judges it; the answer itself was complete."""
    SUITE = "suite"
    """The suite's own transport failed (its socket, pool, file descriptors) after retries:
    says nothing of the gateway, and leaves the case unjudged."""


CUT_KINDS: Final = frozenset(
    {TransportErrorKind.DEADLINE, TransportErrorKind.STREAM_TOO_LONG, TransportErrorKind.LINGER}
)
"""Kinds of a response the suite cut at one of its bounds."""
SUITE_KINDS: Final = frozenset(
    {TransportErrorKind.ABORTED, TransportErrorKind.NOT_FETCHED, TransportErrorKind.SUITE}
)
"""Kinds that describe the suite's own choice, not the gateway: no check judges them."""

ENVIRONMENT_STATUSES: Final = frozenset({401, 403, 429})
"""Statuses about credentials or quota, not conformance: checks treat them as not applicable."""

# -- cases ---------------------------------------------------------------------------------

Kind = Literal["positive", "negative", "boundary"]
Expect = Literal["success", "reject"]

PROMPT_FIELD: Final = "prompt"
STREAM_FIELD: Final = "stream"
MODEL_FIELD: Final = "model"

UNKNOWN_FIELDS: Final = "unknown-fields"
EMPTY_PROMPT: Final = "empty-prompt"
RANDOM: Final = "random"
API_VERSION_ABSENT: Final = "api-version-absent"
DEPLOYMENT_ESCAPED: Final = "deployment-escaped"
TEXT_PREFIX: Final = "text:"
PARITY_PREFIX: Final = "parity:"
UPSTREAM: Final = "upstream"
"""A two-sided case: what reaches the upstream is judged too (conformance.plan.upstream)."""
UPSTREAM_TOKEN_PREFIX: Final = "upstream-token:"
"""`upstream-token:T`: the case's prompt carries T; the upstream's records are matched by it."""
UPSTREAM_FAULT_PREFIX: Final = "upstream-fault:"
"""`upstream-fault:KIND`: the case asks the upstream to fail (a marker in its prompt)."""
DEFAULT_ACCEPT: Final = "application/json, text/event-stream"
ACCEPT_PREFIX: Final = "accept:"
"""`accept:VALUE`: the case is sent with `Accept: VALUE`, and `accept:` with no Accept header
(the body's `stream` decides streaming, not the Accept header)."""
TRAILING_DATA: Final = "trailing-data"
"""A body with data after its JSON object: judged by ERR-TRAILING-DATA (SHOULD) alone."""
SHARED_BODY: Final = "upstream-shared-body"
"""A two-sided case that repeats another's body (and token) for another deployment: only the
upstream calls for its own deployment are its records (a cache must not answer for it)."""
PROVIDER_USAGE: Final = "provider-usage"
"""A two-sided case whose upstream answers with an odd `usage` (missing, null, fractional,
unknown keys): the gateway may drop it or pass it on as it came (rulings, 2026-12-07)."""
FALLBACKS_FIELD: Final = "fallbacks"


def fallback_names(value: Any) -> list[str]:
    """The models a `fallbacks` value names, in order: its strings, or its objects' `model`
    (a document may list objects, e.g. Bifrost's `{provider, model}`)."""
    items = value if isinstance(value, list) else []
    names = [item.get("model") if isinstance(item, dict) else item for item in items]
    return [name for name in names if isinstance(name, str)]


_STREAM_EXCLUSIVE = re.compile(r"not supported for stream", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    """One request: its body (JSON value or exact bytes), parameters and expected outcome.

    `expect="success"` means the spec says the request is valid; `"reject"` means it breaks
    exactly one rule (named in `rule`) and a conforming gateway answers 4xx.
    """

    id: str
    kind: Kind
    title: str
    expect: Expect
    body: Any = None
    raw_body: bytes | None = None
    content_type: str = "application/json"
    deployment: str | None = None
    api_version: str | None = None
    omit_api_version: bool = False
    rule: str | None = None
    pointer: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_json(self) -> bool:
        return self.raw_body is None

    def field(self, name: str, op: Operation, fallback: Any = None) -> Any:
        """The value of a body field as the gateway should read it (spec default if absent)."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return op.default(name, fallback)

    def requested_n(self, op: Operation) -> int:
        value = self.field("n", op, 1)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1

    def streamed(self, op: Operation) -> bool:
        return self.field(STREAM_FIELD, op, False) is True

    def images_requested(self, op: Operation) -> int:
        """Images a conforming gateway generates for this case (0 for a rejected request)."""
        return self.requested_n(op) if self.expect == "success" else 0


def upstream_token(case: Case) -> str | None:
    """The token a two-sided case's prompt carries, or None for any other case."""
    found = (t for t in case.tags if t.startswith(UPSTREAM_TOKEN_PREFIX))
    return next((t[len(UPSTREAM_TOKEN_PREFIX) :] for t in found), None)


def provoked_fault(case: Case) -> str | None:
    """The upstream failure a case asks for (e.g. `500`), or None."""
    found = (t for t in case.tags if t.startswith(UPSTREAM_FAULT_PREFIX))
    return next((t[len(UPSTREAM_FAULT_PREFIX) :] for t in found), None)


def stream_exclusive_fields(op: Operation) -> list[str]:
    """Fields the spec says are not supported for streaming requests."""
    return [
        name
        for name, schema in op.properties.items()
        if name != STREAM_FIELD and _STREAM_EXCLUSIVE.search(str(schema.get("description", "")))
    ]


def accept_header(case: Case) -> dict[str, str]:
    """The Accept header `case` is sent with (empty: none at all)."""
    chosen = next((t[len(ACCEPT_PREFIX) :] for t in case.tags if t.startswith(ACCEPT_PREFIX)), None)
    if chosen is None:
        return {"accept": DEFAULT_ACCEPT}
    return {"accept": chosen} if chosen else {}


def stream_tag(name: str) -> str:
    """The tag of a streamed body that sets `name` (e.g. `stream-response-format`)."""
    return "stream-" + name.replace("_", "-")


def body_tags(body: Any, op: Operation) -> tuple[str, ...]:
    """Tags that follow from a valid body alone (the checks rely on them)."""
    if not isinstance(body, dict):
        return ()
    tags: list[str] = []
    if any(name not in op.properties for name in body):
        tags.append(UNKNOWN_FIELDS)
    if body.get(PROMPT_FIELD) == "":
        tags.append(EMPTY_PROMPT)
    if body.get(STREAM_FIELD) is True:
        tags.extend(stream_tag(name) for name in stream_exclusive_fields(op) if name in body)
    return tuple(tags)


# -- exchanges -----------------------------------------------------------------------------


_LARGE_BODY_LOCK: Final = threading.Lock()
"""Large bodies are parsed one at a time: a second reader waits for the value instead of
reading a body already cut, and answers in flight do not multiply the parse's peak."""


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StreamEvent:
    """One Server-Sent Event as framed by the WHATWG rules, with its arrival time."""

    event: str
    data: str
    id: str
    retry: int | None
    t_s: float

    @cached_property
    def payload(self) -> Any:
        """The data parsed as JSON (once, whoever asks first), or `NOT_JSON`."""
        return parse_json(self.data)


@dataclass
class Exchange:
    """A request and what came back (possibly nothing, with `transport_error` set)."""

    case: Case
    request: SentRequest
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[StreamEvent] | None = None
    elapsed_s: float = 0.0
    transport_error: TransportErrorKind | None = None
    transport_detail: str = ""

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_stream(self) -> bool:
        return self.events is not None

    _cut_from: int = field(default=0, init=False, repr=False)

    @property
    def body_size(self) -> int:
        """How many bytes the body had as read (`body` may keep only the first of them)."""
        return max(self._cut_from, len(self.body))

    def take(self, read: ReadBody) -> None:
        """Hold a body as `read_json` read it: a large one parsed, and cut to its first bytes."""
        self.body = read.kept
        self._cut_from = read.size if read.size > len(read.kept) else 0
        if read.parsed:
            self.__dict__["json_problem"] = read.problem
            self.__dict__["json_body"] = read.value

    @cached_property
    def json_body(self) -> Any:
        """The body parsed as JSON, or `NOT_JSON` when it does not parse (or is beyond the
        suite's bounds: then `json_problem` says why).

        The client parses a large answer as it reads it (`read_json`). A large body given
        whole is parsed the same way here, then cut to its first `KEPT_BODY_BYTES` (more than
        any excerpt shows): the parsed value, not the bytes, is what the checks read. A body
        that does not parse is kept whole."""
        if len(self.body) <= KEPT_BODY_BYTES and not self._cut_from:  # cut: another reader
            value, problem = parse_json_bounded(self.body)
            self.__dict__["json_problem"] = problem
            return value
        with _LARGE_BODY_LOCK:  # one large parse at a time, and never of a body already cut
            if "json_body" in self.__dict__:
                return self.__dict__["json_body"]
            read = read_json((self.body,), parse_above=0)
            self.take(read)
            return read.value

    @cached_property
    def json_problem(self) -> str:
        """Why a body that may be JSON is not judged as such (too deep, too wide); or ""."""
        _ = self.json_body
        return str(self.__dict__.get("json_problem", ""))


@dataclass(frozen=True)
class FetchResult:
    """What GET of a URL the gateway returned (an image) brought back."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: TransportErrorKind | None = None
    detail: str = ""

    @property
    def skipped(self) -> bool:
        """The suite did not fetch, or abandoned the fetch: says nothing of the gateway."""
        return self.error in SUITE_KINDS

    @property
    def error_text(self) -> str:
        return f"{self.error}: {self.detail}" if self.error else ""
