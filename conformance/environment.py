"""The environment line: what the answers that no check judges say about the setup.

A 404/405 means the route was not found (a wrong --base-url prefix, --profile or
--deployment), a TLS failure against a port that speaks plain HTTP means the URL's scheme is
wrong, 401/403 are credentials, 429 is rate limiting or quota. Each is named for what it is,
never lumped under "401/403/429". The timing line says how the re-sends after a cut at one of
the suite's own windows ended (a slow gateway, not a defect).
"""

from __future__ import annotations

import errno
import socket
from collections import Counter
from collections.abc import Sequence

from conformance.results import EnvironmentProblem

ROUTE_MISS = (404, 405)
TLS_STATUS = 0
"""How the runner records a request whose TLS handshake failed (no status)."""
_MEANING = {
    "route": "route not found: check --base-url, --profile and --deployment",
    "tls": "TLS handshake failed: if the port serves plain HTTP, use an http:// --base-url",
    "credentials": "credentials refused: check --api-key / --header",
    "quota": "rate limited or out of quota",
}


def _category(problem: EnvironmentProblem) -> str:
    if problem.status in ROUTE_MISS:
        return "route"
    if problem.status in (401, 403):
        return "credentials"
    if problem.status == 429:
        return "quota"
    return "tls" if problem.status == TLS_STATUS else "other"


def environment_lines(problems: Sequence[EnvironmentProblem]) -> list[str]:
    """One line per kind of problem, e.g. `3 answers were 404: route not found: check ...`."""
    by_kind: dict[str, Counter[int]] = {}
    for problem in problems:
        by_kind.setdefault(_category(problem), Counter())[problem.status] += 1
    lines = []
    for kind, statuses in by_kind.items():
        count = sum(statuses.values())
        if kind == "tls":
            lines.append(f"{count} requests failed: {_MEANING['tls']}")
            continue
        listed = "/".join(str(s) for s in sorted(statuses))
        meaning = _MEANING.get(kind, "not conformance")
        lines.append(f"{count} answer{'s were' if count != 1 else ' was'} {listed}: {meaning}")
    return lines


def every_answer_line(problems: Sequence[EnvironmentProblem]) -> str:
    """When nothing else answered: `every answer was 401: credentials refused: ...` for one kind
    of problem, else the lines of `environment_lines` joined."""
    kinds = {_category(p) for p in problems}
    if len(kinds) != 1 or "other" in kinds:
        return "; ".join(environment_lines(problems))
    (kind,) = kinds
    if kind == "tls":
        return f"every request failed: {_MEANING['tls']}"
    listed = "/".join(str(s) for s in sorted({p.status for p in problems}))
    return f"every answer was {listed}: {_MEANING[kind]}"


def timing_retry_line(retries: Sequence[dict[str, str]]) -> str:
    """What the re-sends after a timing-only cut came to (`coverage.timing_retries`)."""
    cut_again = sum(1 for r in retries if r.get("re-sent") != "answered in time")
    return (
        f"{len(retries)} requests cut only by a timing window were re-sent with wider windows; "
        f"{len(retries) - cut_again} then answered in time, {cut_again} were cut again"
    )


def rejudged_line(rejudged: Sequence[dict[str, str]]) -> str:
    """What the re-sends after a `timing` check's failure came to (`coverage.timing_rejudged`)."""
    outcomes = [r.get("re-sent", "") for r in rejudged]
    passed = outcomes.count("passed")
    stood = sum(1 for o in outcomes if o.startswith("not judged"))
    line = (
        f"{len(rejudged)} failure{'s' if len(rejudged) != 1 else ''} of a check that reads the "
        f"client's own clock re-judged on a re-send: {passed} then passed, "
        f"{len(outcomes) - passed - stood} failed again"
    )
    return line + (f", {stood} stood (the re-send gave nothing to judge)" if stood else "")


def unreachable(url: str, exc: OSError) -> str:
    """Why nothing answered at `url`, named: DNS, connection refused, or the OS's words."""
    if isinstance(exc, socket.gaierror):
        return f"cannot reach {url}: its host name does not resolve (DNS: {exc.strerror})"
    if exc.errno == errno.ECONNREFUSED:
        return f"cannot reach {url}: connection refused (nothing listens on that port)"
    if isinstance(exc, TimeoutError):
        return f"cannot reach {url}: no TCP connection within the connect timeout"
    return f"cannot reach {url}: {exc.strerror or exc.__class__.__name__}"
