"""`conformance replay results.json`: send a saved run's failing requests again and judge them.

Each failure in results.json holds the request that failed (the minimal one, when it was shrunk)
and what its case meant, so the case can be rebuilt and judged again by the checks that failed on
it. Secrets were redacted when the run was saved: the api key and every header whose value was
masked must be given again (`--api-key` / `CONFORMANCE_API_KEY`, `--header`), or the replay is
refused, naming them. A failure of the streaming parity check brings back its JSON partner (the
same body, not streamed), since that check compares the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from conformance.config import API_KEY_ENV, RunConfig, run_config
from conformance.errors import ResultsError, UsageError
from conformance.model import PARITY_PREFIX, STREAM_FIELD, Case
from conformance.redaction import MASK
from conformance.results import EMBEDDED_TARGET, Failure, RunResult
from conformance.spec import Operation

_NARROWED = re.compile(r"^(?P<source>.*) \(narrowed: (?P<rules>.*)\)$")
_CLIPPED = re.compile(r"… \[\d+ more chars\]$")
_PLACEHOLDER = re.compile(r"^\$\{?[A-Z_][A-Z0-9_]*\}?$")
API_KEY_HEADER = "api-key"


@dataclass(frozen=True)
class ReplayPlan:
    """The cases to send again and the checks that failed on them."""

    cases: list[Case]
    checks: tuple[str, ...]
    base_url: str | None
    """The saved run's target, unless it was redacted."""


def replay_config(
    saved: RunResult, values: Mapping[str, Any], case_id: str | None = None
) -> tuple[RunConfig, ReplayPlan]:
    """The run that replays `saved` (one case with `case_id`) and what it sends. `values` are
    the options given (`base_url`, `api_key`, `header`, `spec`, bounds): without `spec` the
    saved run's spec and narrowing, which must still be what the run was judged against.
    A run against the embedded reference gateway is replayed against a new one (with the
    same fault) unless `base_url` is given."""
    source, rules = saved_spec(saved)
    embedded = saved.coverage.get(EMBEDDED_TARGET)
    embedded = embedded if isinstance(embedded, dict) and not values.get("base_url") else None
    if embedded is not None:  # the same embedded target again, with the suite's own key
        values = {**values, "fault": embedded.get("fault")}
    spec_given = bool(values.get("spec"))
    if not spec_given:
        readable = bool(source) and ("://" in str(source) or Path(str(source)).is_file())
        values = {**values, "spec": source if readable else None, "narrow": rules}
    config = run_config({**values, "no_shrink": True})
    if config.spec.sha256 != saved.spec_sha256 and not spec_given:
        raise UsageError(
            f"the spec differs from the one the saved run was judged against ({source}); "
            "give --spec to judge against another"
        )
    plan = replay_plan(saved, config.spec.operation, case_id)
    missing = missing_secrets(failures_to_replay(saved, case_id), config)
    if missing and embedded is None:
        raise UsageError(secrets_hint(missing))
    if not config.base_url and embedded is None:
        if not plan.base_url:
            raise UsageError("the saved target was redacted; give --base-url")
        config.base_url = plan.base_url
    config.checks = plan.checks
    config.strict = saved.strict
    return config, plan


def saved_spec(saved: RunResult) -> tuple[str | None, list[str]]:
    """The spec source and narrowing rules a saved run was judged against."""
    match = _NARROWED.match(saved.spec_source)
    if not match:
        return saved.spec_source or None, []
    return match["source"], [r for r in match["rules"].split("; ") if r]


def failures_to_replay(saved: RunResult, case_id: str | None = None) -> list[Failure]:
    """Every failure of the saved run (of one case with `case_id`), in report order."""
    failures = [f for check in saved.checks for f in check.failures]
    if case_id is None:
        if not failures:
            raise UsageError("the saved run has no failure to replay")
        return failures
    chosen = [f for f in failures if f.case_id == case_id]
    if not chosen:
        known = ", ".join(dict.fromkeys(f.case_id for f in failures)) or "none"
        raise UsageError(f"no failure of case {case_id!r} in the saved run; failing cases: {known}")
    return chosen


def replay_plan(saved: RunResult, op: Operation, case_id: str | None = None) -> ReplayPlan:
    """The cases that rebuild the saved failures (one per failing request)."""
    cases: dict[str, Case] = {}
    checks: list[str] = []
    for failure in failures_to_replay(saved, case_id):
        if failure.check_id not in checks:
            checks.append(failure.check_id)
        if failure.case_id in cases:
            continue
        case = rebuild_case(failure, op)
        cases[case.id] = case
        partner = parity_partner(case)
        if partner is not None and partner.id not in cases:
            cases[partner.id] = partner
    target = saved.target if MASK not in saved.target else None
    return ReplayPlan(list(cases.values()), tuple(checks), target)


def rebuild_case(failure: Failure, op: Operation) -> Case:
    """The case behind one saved failure: its request's body and parameters, its meaning."""
    meaning, request = failure.case, failure.request
    if not meaning or not request:
        raise ResultsError(
            f"failure of {failure.check_id} on {failure.case_id}: saved without the case it "
            "came from (results.json of an older version); run again to replay it"
        )
    text = str(request.get("body", ""))
    if _CLIPPED.search(text) or MASK in text:
        raise ResultsError(
            f"case {failure.case_id}: the saved body was shortened or redacted; it cannot be "
            "sent again as it was"
        )
    deployment, version, omitted = _url_parameters(str(request.get("url", "")), op)
    raw = bool(meaning.get("raw"))
    body: Any = None
    if not raw:
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise ResultsError(f"case {failure.case_id}: saved body is not JSON: {exc}") from exc
    return Case(
        id=failure.case_id,
        kind=meaning.get("kind", "positive"),
        title=failure.case_title,
        expect=meaning.get("expect", "success"),
        body=body,
        raw_body=text.encode() if raw else None,
        content_type=str(meaning.get("content_type", "application/json")),
        deployment=deployment,
        api_version=version,
        omit_api_version=omitted,
        rule=meaning.get("rule"),
        pointer=meaning.get("pointer"),
        tags=tuple(str(t) for t in meaning.get("tags", [])),
    )


def parity_partner(case: Case) -> Case | None:
    """For a streamed member of a parity group, the same body not streamed."""
    tag = next((t for t in case.tags if t.startswith(PARITY_PREFIX)), None)
    if tag is None or not isinstance(case.body, dict) or case.body.get(STREAM_FIELD) is not True:
        return None
    return Case(
        id=f"{case.id}~json",
        kind=case.kind,
        title=f"{case.title} (not streamed, for comparison)",
        expect=case.expect,
        body={**case.body, STREAM_FIELD: False},
        deployment=case.deployment,
        api_version=case.api_version,
        omit_api_version=case.omit_api_version,
        tags=(tag,),
    )


def missing_secrets(failures: list[Failure], config: RunConfig) -> list[str]:
    """Headers the saved requests carried redacted that `config` does not give again."""
    given = {name.lower() for name, _ in config.headers}
    if config.api_key:
        given.add(API_KEY_HEADER)
    missing: list[str] = []
    for failure in failures:
        headers: Mapping[str, Any] = failure.request.get("headers", {}) or {}
        for name, value in headers.items():
            redacted = MASK in str(value) or bool(_PLACEHOLDER.match(str(value)))
            if redacted and name.lower() not in given and name.lower() not in missing:
                missing.append(name.lower())
    return missing


def secrets_hint(missing: list[str]) -> str:
    parts = []
    for name in missing:
        if name == API_KEY_HEADER:
            parts.append(f"--api-key (or {API_KEY_ENV})")
        else:
            parts.append(f"--header '{name}: ...'")
    return (
        f"the saved requests carried redacted {', '.join(missing)}; give "
        f"{' and '.join(parts)} to replay them"
    )


def _url_parameters(url: str, op: Operation) -> tuple[str | None, str | None, bool]:
    """Deployment and api-version of a saved request URL (None: the target's)."""
    parts = urlsplit(url)
    match = re.search(op.path_regex() + "$", parts.path)
    deployment = unquote(match["deployment"]) if match else None
    versions = parse_qs(parts.query, keep_blank_values=True).get("api-version")
    if versions is None:
        return deployment, None, True
    return deployment, versions[0], False
