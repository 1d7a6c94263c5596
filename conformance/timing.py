"""The suite's own timing windows, scaled to the gateway it measures.

A slow gateway is not a defect unless the spec says so: the first-byte wait, the read timeout
between bytes, the stream grace window (how long a stream may stay open after its last
expected event) and the caps on a whole answer derive from the latencies measured in the run,
a multiple (`SCALE`) of the p95 of each, per kind of answer (JSON or stream). The configured
`Bounds` are floors. Only completed answers are measured, so a gateway that never ends a stream
cannot stretch the windows that cut it.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from typing import Literal

from conformance.config import Bounds
from conformance.model import Exchange
from conformance.model import TransportErrorKind as Kind

Answer = Literal["json", "stream"]
Measure = Literal["first_byte", "gap", "end_lag", "duration"]
SCALE = 3.0
"""Windows are this multiple of the measured p95 (when that exceeds the floor)."""
WIDEN = 3.0
"""A re-send after a timing-only failure gets windows this much wider."""
MIN_SAMPLES = 3
"""Below this many samples the largest one stands in for the p95."""
KEPT = 500
"""Samples kept per measure (the most recent)."""


@dataclass(frozen=True)
class Windows:
    """How long one request may take, phase by phase (seconds)."""

    first_byte: float
    """From the request's start to the status line."""
    read: float
    """Between two reads once the answer started."""
    total: float
    """A JSON answer, from the request's start."""
    stream_cap: float
    """A stream, from its first byte."""
    grace: float
    """A stream, after its last expected event."""

    def widened(self, factor: float = WIDEN) -> Windows:
        return Windows(*(value * factor for value in self.__dict__.values()))


def floors(bounds: Bounds) -> Windows:
    """The configured bounds as windows (what a run uses before it measured anything)."""
    return Windows(
        first_byte=bounds.first_byte_s,
        read=bounds.read_timeout,
        total=bounds.total_timeout,
        stream_cap=bounds.max_stream_s,
        grace=bounds.stream_grace_s,
    )


class Latencies:
    """Latencies of completed answers, per kind of answer and measure; thread-safe."""

    def __init__(self) -> None:
        self._samples: dict[tuple[Answer, Measure], deque[float]] = defaultdict(
            lambda: deque(maxlen=KEPT)
        )
        self._lock = threading.Lock()

    def record(self, answer: Answer, measure: Measure, seconds: float) -> None:
        if math.isfinite(seconds) and seconds >= 0:
            with self._lock:
                self._samples[(answer, measure)].append(seconds)

    def p95(self, answer: Answer, measure: Measure) -> float:
        """The 95th percentile (nearest rank) of the samples; 0 without any."""
        with self._lock:
            values = sorted(self._samples.get((answer, measure), ()))
        if not values:
            return 0.0
        if len(values) < MIN_SAMPLES:
            return values[-1]
        return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]

    def answered(self) -> bool:
        """Whether any answer was measured (the gateway is known to respond)."""
        with self._lock:
            return any(self._samples.values())

    def windows(self, bounds: Bounds, answer: Answer) -> Windows:
        """The windows for the next `answer`: the floors, or `SCALE` x the measured p95."""
        base = floors(bounds)

        def scaled(floor: float, *measures: Measure) -> float:
            return max(floor, *(SCALE * self.p95(answer, m) for m in measures))

        total = scaled(base.total, "duration")
        return replace(
            base,
            first_byte=min(scaled(base.first_byte, "first_byte"), total),
            read=scaled(base.read, "gap"),
            total=total,
            stream_cap=scaled(base.stream_cap, "duration"),
            grace=scaled(base.grace, "end_lag", "gap"),
        )


TIMING_KINDS = frozenset({Kind.TIMEOUT, Kind.DEADLINE, Kind.LINGER})
"""Cuts at one of the suite's own time windows: a re-send with wider windows tells a slow
gateway from one that never answers or never ends."""
DEADLINE_MARGIN_S = 60.0
"""At most this much on top of the requests' bounds (less for tiny bounds: 10 requests' worth)."""


def timing_cut(exchange: Exchange) -> bool:
    """Whether `exchange` failed only by time (cut at a window of the suite's)."""
    return exchange.transport_error in TIMING_KINDS


def request_bound(bounds: Bounds) -> float:
    """The longest one request may take at the configured windows: a JSON answer, or a
    stream's first-byte wait plus its cap."""
    return max(bounds.total_timeout, bounds.first_byte_s + bounds.max_stream_s)


def run_deadline(requests: int, bounds: Bounds, workers: int) -> float:
    """The default whole-run deadline: every request at its bound, `workers` at a time (each
    may be re-sent once with wider windows), plus a margin; shrinking and re-sends share it."""
    waves = math.ceil(max(1, requests) / max(1, workers))
    bound = request_bound(bounds)
    return waves * bound + bound * WIDEN + min(DEADLINE_MARGIN_S, 10 * bound)
