"""What the upstream behind the gateway received for a two-sided case (`UpstreamView`).

Each two-sided case carries a run-unique token in its prompt; once the gateway answered, the
upstream's records holding that token are read from its `RECORDS_PATH` and judged by the
`forwarding` checks. A records endpoint that cannot be read is said so in the view.
"""

from __future__ import annotations

import threading

import httpx

from conformance.checks.registry import UpstreamView
from conformance.config import tls_verify
from conformance.model import Case, upstream_token

RECORDS_PATH = "/_upstream/requests"
RECORDS_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class UpstreamRecords:
    """Reads the records of the upstream at `url` (None: the run watches no upstream)."""

    def __init__(self, url: str | None, max_calls: int, credential_passes: bool) -> None:
        self.url = url.rstrip("/") if url else None
        self.max_calls = max_calls
        self.credential_passes = credential_passes
        # httpx's default verification (certifi's CAs), from the context the run's clients
        # share: building one more costs ~16 ms of CPU before the first case is sent.
        self._http = httpx.Client(timeout=RECORDS_TIMEOUT, trust_env=False, verify=tls_verify(None))
        self._seen: dict[str, dict[str, frozenset[int]]] = {}
        """token -> case ID -> the `seq`s of the records that case was judged with."""
        self._seen_lock = threading.Lock()

    def __enter__(self) -> UpstreamRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def view(self, case: Case) -> UpstreamView | None:
        """The upstream's records of a two-sided case (by its token), read once it was
        answered; None for other cases or when the run has no upstream to read."""
        token = upstream_token(case)
        if self.url is None or token is None:
            return None
        calls, passes = self.max_calls, self.credential_passes
        try:
            response = self._http.get(self.url + RECORDS_PATH, params={"contains": token})
            found = response.json()["requests"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            return UpstreamView([], calls, f"{exc.__class__.__name__}: {exc}", passes)
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            return UpstreamView(
                [], calls, f"{RECORDS_PATH} answered {response.status_code}", passes
            )
        records = sorted(found, key=_seq)
        return UpstreamView(records, calls, None, passes, self._earlier(token, case.id, records))

    def _earlier(
        self, token: str, case_id: str, records: list[dict[str, object]]
    ) -> frozenset[int]:
        """The records of `token` that other cases (earlier in the chain: cases sharing a token
        are sent and judged in order, on one worker) were judged with; `case_id`'s own are
        noted for the cases after it. A case judged again keeps its own records."""
        with self._seen_lock:
            judged = self._seen.setdefault(token, {})
            earlier = frozenset().union(*(s for c, s in judged.items() if c != case_id))
            judged[case_id] = frozenset(_seq(r) for r in records) - earlier
        return earlier


def _seq(record: dict[str, object]) -> int:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else 0
