"""Every request the fake upstream received, as plain JSON, readable over HTTP.

A record is a dict (method, path, query, headers, body, and what the upstream did: its
status, the fault applied, the stream's timing) so the endpoint returns it as stored. The store
keeps the newest `capacity` records.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

CAPACITY = 10000
BODY_TEXT_LIMIT = 65536

Record = dict[str, Any]


class RecordStore:
    """A bounded, thread-safe log of upstream requests."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._records: deque[Record] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def add(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
        body: Any,
        parsed: bool,
    ) -> Record:
        """Store a new record (returned, to be completed as the request is answered)."""
        with self._lock:
            self._seq += 1
            record: Record = {
                "seq": self._seq,
                "received_at": time.time(),
                "method": method,
                "path": path,
                "query": query,
                "headers": headers,
                "body": body if parsed else None,
                "body_text": None if parsed else raw[:BODY_TEXT_LIMIT].decode("utf-8", "replace"),
                "route": None,
                "deployment": None,
                "api_version": query.get("api-version"),
                "model": None,
                "status": None,
                "fault": None,
                "error_code": None,
                "retry_after": None,
                "stream": None,
                "_raw": raw,
            }
            self._records.append(record)
            return record

    def list(self, contains: str | None = None) -> list[Record]:
        """The records (oldest first) whose raw body contains `contains`, when given."""
        needle = contains.encode() if contains else None
        with self._lock:
            found = [r for r in self._records if needle is None or needle in r["_raw"]]
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in found]

    def clear(self) -> int:
        with self._lock:
            count = len(self._records)
            self._records.clear()
            return count
