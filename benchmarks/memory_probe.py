"""One memory measurement in a fresh process (peak RSS is per process): prints JSON.

memory_probe.py json URL MB        read and parse a JSON answer of MB megabytes
memory_probe.py stream URL SECONDS read an endless stream for SECONDS (bounded by time only)
"""

from __future__ import annotations

import json
import resource
import sys
import time

from harness import peak_rss_mb


def current_mb() -> float:
    """Resident set size now (Linux /proc; the peak where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return peak_rss_mb()
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    from conformance.client import Client
    from conformance.config import Bounds, Target
    from conformance.model import Case
    from conformance.spec import load_spec

    kind, url, amount = sys.argv[1], sys.argv[2], float(sys.argv[3])
    capped = len(sys.argv) > 4 and sys.argv[4] == "default-bounds"
    op = load_spec().operation
    body = {"model": "dall-e-3", "prompt": "a lighthouse", "stream": kind == "stream"}
    case = Case(id="bench", kind="positive", title="bench", expect="success", body=body)
    if kind == "json":
        bounds = Bounds(max_body_bytes=int((amount + 16) * 2**20), read_timeout=120)
    elif capped:
        bounds = Bounds(max_stream_s=amount, total_timeout=amount + 30)
    else:
        bounds = Bounds(max_events=10**9, max_stream_s=amount, total_timeout=amount + 30)
    before = current_mb()
    started = time.monotonic()
    with Client(Target(base_url=url), op, bounds) as client:
        exchange = client.send(case)
        parsed = exchange.json_body if kind == "json" else None
    result = {
        "baseline_mb": round(before, 1),
        "peak_mb": round(peak_rss_mb(), 1),
        "body_mb": round(exchange.body_size / 2**20, 1),
        "events": len(exchange.events or []),
        "stream_mb": round(sum(len(e.data) for e in exchange.events or []) / 2**20, 1),
        "parsed": parsed is not None and kind == "json",
        "seconds": round(time.monotonic() - started, 2),
        "transport_error": exchange.transport_error,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
