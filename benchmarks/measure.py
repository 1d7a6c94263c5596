"""The measurements of `make bench`. Each returns a list of rows:
{"bench", "metric", "value", "unit", "target" (text or ""), "note"}.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import httpx
from harness import HERE, child, conformance_peak, served

from conformance.checks.registry import ExchangeContext, catalogue
from conformance.client import Client
from conformance.config import Bounds, RunConfig, Target
from conformance.gate import decide
from conformance.model import Case
from conformance.run import make_plan, run
from conformance.spec import load_spec

Row = dict[str, Any]
CONFORMANCE = [sys.executable, "-m", "conformance.cli"]


def row(bench: str, metric: str, value: float, unit: str, target: str = "", note: str = "") -> Row:
    return {
        "bench": bench,
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "target": target,
        "note": note,
    }


def _cpu(action: Callable[[], None], repeat: int = 3) -> float:
    """The least process CPU time (all threads) of `repeat` runs of `action`."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return min(times)


def _cpu_interleaved(actions: list[Callable[[], None]], repeat: int = 5) -> list[float]:
    """The least process CPU time of each action over `repeat` rounds, the actions taking
    turns within a round (so a drift of the machine's speed reaches all of them alike)."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for spent, action in zip(times, actions, strict=True):
            started = time.process_time()
            action()
            spent.append(time.process_time() - started)
    return [min(spent) for spent in times]


def client_overhead() -> list[Row]:
    """CPU per request of the suite's client against a bare httpx loop sending the same
    requests and parsing the JSON (the gateway runs in another process)."""
    spec = load_spec()
    op = spec.operation
    cases = [c for c in make_plan(RunConfig(spec=spec)).cases if not c.streamed(op)]
    with served("gateway") as url:
        target = Target(base_url=url)
        client = Client(target, op)
        requests = [client.build(c) for c in cases]

        def bare(keepalive: bool) -> Callable[[], None]:
            def loop() -> None:
                limits = httpx.Limits(max_keepalive_connections=None if keepalive else 0)
                with httpx.Client(limits=limits, timeout=30) as http:
                    for request in requests:
                        response = http.request(
                            request.method,
                            request.url,
                            headers=request.headers,
                            content=request.body,
                        )
                        with contextlib.suppress(ValueError):
                            response.json()

            return loop

        def suite() -> None:
            with Client(target, op) as fresh:
                for case in cases:
                    _ = fresh.send(case).json_body

        fresh_conn, keepalive, ours = _cpu_interleaved([bare(False), bare(True), suite])
        full = _cpu(lambda: run(RunConfig(spec=spec, base_url=url, shrink=False)), repeat=1)
        client.close()
    n = len(cases)
    full_requests = _full_requests(spec)
    return [
        row(
            "client overhead",
            "bare httpx, one connection per request",
            1e3 * fresh_conn / n,
            "ms CPU/request",
        ),
        row("client overhead", "bare httpx, keep-alive", 1e3 * keepalive / n, "ms CPU/request"),
        row("client overhead", "conformance Client.send + JSON", 1e3 * ours / n, "ms CPU/request"),
        row(
            "client overhead",
            "ratio vs bare httpx (same connection policy)",
            ours / fresh_conn,
            "x",
            "<= 1.3",
            f"{n} requests of the default plan; vs keep-alive: {ours / keepalive:.2f}x",
        ),
        row(
            "client overhead",
            "whole default run (plan, send, checks, url fetches)",
            1e3 * full / full_requests,
            "ms CPU/request",
            note="checks and planning included",
        ),
    ]


def _full_requests(spec: Any) -> int:
    summary = make_plan(RunConfig(spec=spec))
    op = spec.operation
    fetches = sum(
        c.images_requested(op)
        for c in summary.cases
        if not c.streamed(op) and c.field("response_format", op) == "url"
    )
    return len(summary.cases) + fetches


def validation(images: int = 10, width: int = 1792, height: int = 1024) -> list[Row]:
    """One answer with ten 1792x1024 b64_json images (noise, so PNG cannot shrink them, as
    with real pictures): every exchange check of the suite on it (schema, base64, image
    header) vs json.loads plus base64 decoding alone."""
    import base64
    import io
    import os

    from PIL import Image

    from conformance.model import Exchange, SentRequest

    spec = load_spec()
    op = spec.operation
    png = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(png, "PNG")
    encoded = base64.b64encode(png.getvalue()).decode()
    size = f"{width}x{height}"
    answer = {
        "created": int(time.time()),
        "data": [
            {"b64_json": encoded, "revised_prompt": "a lighthouse", "index": i}
            for i in range(images)
        ],
        "size": size,
    }
    wire = json.dumps(answer).encode()
    body = {
        "model": "dall-e-3",
        "prompt": "a lighthouse",
        "n": images,
        "size": size,
        "response_format": "b64_json",
    }
    case = Case(id="bench", kind="positive", title="bench", expect="success", body=body)
    request = SentRequest("POST", "http://127.0.0.1/", {}, json.dumps(body).encode())
    exchange = Exchange(
        case=case,
        request=request,
        status=200,
        headers={"content-type": "application/json"},
        body=wire,
    )
    size_mb = len(wire) / 2**20
    checks = [c for c in catalogue() if c.scope == "exchange"]

    def no_fetch(link: str) -> Any:
        raise AssertionError("a b64 answer fetches nothing")

    def baseline() -> None:
        for item in json.loads(wire)["data"]:
            base64.b64decode(item["b64_json"], validate=True)

    failed: list[str] = []

    def suite() -> None:
        ctx = ExchangeContext(spec, op, dataclasses.replace(exchange), no_fetch)
        for chk in checks:
            if chk.func(ctx):
                failed.append(chk.id)

    repeat = 5
    base_s = _wall(baseline, repeat)
    suite_s = _wall(suite, repeat)
    return [
        row(
            "validation",
            "json + base64 alone",
            size_mb / base_s,
            "MB/s",
            note=f"{size_mb:.1f} MB answer, {images} images {size}",
        ),
        row(
            "validation",
            "every exchange check (schema, base64, full image check)",
            size_mb / suite_s,
            "MB/s",
            note=f"checks failing: {sorted(set(failed)) or 'none'}",
        ),
        row("validation", "throughput ratio", base_s / suite_s, "x", ">= 0.5"),
    ]


def _wall(action: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sse_throughput(events: int = 2000, kb: int = 32) -> list[Row]:
    """A long stream read by the client: events and megabytes per second."""
    op = load_spec().operation
    body = {"model": "dall-e-3", "prompt": "a lighthouse", "stream": True}
    case = Case(id="bench", kind="positive", title="bench", expect="success", body=body)
    bounds = Bounds(max_events=events + 10, max_stream_s=300, total_timeout=300)
    with (
        served("stream", "--events", str(events), "--kb", str(kb)) as url,
        Client(Target(base_url=url), op, bounds) as client,
    ):
        started, cpu = time.perf_counter(), time.process_time()
        exchange = client.send(case)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
    got = len(exchange.events or [])
    mb = sum(len(e.data) for e in exchange.events or []) / 2**20
    return [
        row("sse", "events/s", got / took, "events/s", note=f"{got} events of {kb} KiB"),
        row("sse", "throughput", mb / took, "MB/s", note="wall time; the server shares the CPUs"),
        row(
            "sse",
            "client CPU per event",
            1e6 * cpu / max(got, 1),
            "us CPU/event",
            note=f"{mb / max(cpu, 1e-9):.0f} MB per CPU second",
        ),
    ]


def memory() -> list[Row]:
    """Peak RSS of a fresh process reading a 100 MB answer, and an endless stream for 4 s
    and 8 s (flat means the stream's length does not show in memory)."""
    probe = [sys.executable, str(HERE / "memory_probe.py")]
    with served("json", "--mb", "100") as url:
        _, out = child([*probe, "json", url, "100"])
    big = json.loads(out)
    above = big["peak_mb"] - big["baseline_mb"]
    rows = [
        row(
            "memory",
            "100 MB JSON answer: peak RSS above start",
            above,
            "MB",
            "<= ~2x body",
            f"body {big['body_mb']} MB read and parsed; process peak {big['peak_mb']} MB",
        ),
        row(
            "memory",
            "100 MB JSON answer: peak RSS above start / body",
            above / big["body_mb"],
            "x",
            "<= 2",
            "the same measurement, as a ratio",
        ),
    ]
    with served("stream", "--events", "0", "--kb", "1") as url:
        for seconds in (4, 8):
            for bounds in ("default-bounds", "events-unbounded"):
                _, out = child([*probe, "stream", url, str(seconds), bounds])
                found = json.loads(out)
                label = "default bounds" if bounds == "default-bounds" else "no event cap"
                rows.append(
                    row(
                        "memory",
                        f"endless stream, {seconds}s, {label}: peak RSS above start",
                        found["peak_mb"] - found["baseline_mb"],
                        "MB",
                        "flat",
                        f"{found['events']} events, {found['stream_mb']} MB of data held",
                    )
                )
    return rows


def startup() -> list[Row]:
    rows = []
    for label, args in (
        ("conformance --help", ["--help"]),
        ("conformance checks", ["checks"]),
        ("conformance run --dry-run", ["run", "--dry-run"]),
    ):
        times = [child([*CONFORMANCE, *args])[0] for _ in range(3)]
        rows.append(row("start-up", label, statistics.median(times), "s", note="median of 3"))
    return rows


SPEC_LOAD_CHILD = (
    "import json, os, sys, time\n"
    "os.environ['CONFORMANCE_CACHE_DIR'] = sys.argv[2]\n"
    "started, cpu = time.perf_counter(), time.process_time()\n"
    "from conformance.spec import load_spec\n"
    "spec = load_spec(sys.argv[1])\n"
    "op = spec.operation\n"
    "print(json.dumps({'s': time.perf_counter() - started, 'cpu': time.process_time() - cpu,"
    " 'op': op.operation_id}))\n"
)


def spec_loading() -> list[Row]:
    """Loading, resolving and validating OpenAI's whole 3.1 document (3 MB of YAML) in a fresh
    process: the first time (YAML parse included), then again with the resolved operation read
    back from the content-hash cache."""
    from harness import ROOT

    document = ROOT / "conformance" / "specs" / "third_party" / "openai" / "openapi.yaml"
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        for label in ("first load (parse, resolve, validate)", "cached load"):
            _, out = child([sys.executable, "-c", SPEC_LOAD_CHILD, str(document), cache])
            found = json.loads(out)
            note = f"{found['op']}; CPU {found['cpu']:.2f} s (wall time grows with machine load)"
            rows.append(row("spec loading", f"OpenAI 3.1, {label}", found["s"], "s", "< 2 s", note))
    return rows


def default_run(repeat: int = 3) -> list[Row]:
    """`conformance run` as a new user types it (the embedded pair, default plan), in a fresh
    process, `repeat` times: the median wall time and CPU time (suite and embedded pair), and
    the suite process's peak RSS (the embedded pair runs in a process of its own)."""
    walls, cpus, peaks = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            before = children_cpu()
            wall, rss, code, _ = conformance_peak(["run", "--quiet", "--report-dir", tmp])
            if code != 0:
                raise RuntimeError(f"the default run exited {code}")
            walls.append(wall)
            cpus.append(children_cpu() - before)
            peaks.append(rss)
    spread = f"{min(walls):.2f} to {max(walls):.2f} s over {repeat} runs"
    note = f"median; embedded pair, process start and reports included; {spread}"
    return [
        row("default run", "wall time", statistics.median(walls), "s", "<= 4", note),
        row(
            "default run",
            "CPU time (suite and embedded pair)",
            statistics.median(cpus),
            "s",
            note="user + system of every process of the run; wall time on 2 idle CPUs "
            "cannot be much below half of it",
        ),
        row("default run", "peak RSS", max(peaks), "MB", note="suite process"),
    ]


def children_cpu() -> float:
    """User + system seconds of this process's finished children (and theirs)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def latency_scaling(
    budget: str, latency_s: float = 2.0, workers: tuple[int, ...] = (1, 4, 16)
) -> list[Row]:
    """Wall time of a run against a provider that takes `latency_s` per generated answer."""
    spec = load_spec()
    rows = []
    with served("gateway", "--latency", str(latency_s)) as url:
        for count in workers:
            started = time.perf_counter()
            result = run(RunConfig(spec=spec, base_url=url, budget=budget, workers=count))
            took = time.perf_counter() - started
            rows.append(
                row(
                    "latency",
                    f"{budget} run, {latency_s:g}s latency, --workers {count}",
                    took,
                    "s",
                    "<= 25" if count == 16 and budget == "standard" else "",
                    note=f"{result.stats.requests} requests, {decide(result).verdict.value}",
                )
            )
    return rows


def fault_sweep() -> list[Row]:
    """Every fault of the catalogue, default run each (in process, embedded gateway)."""
    from conformance.targets.faults import FAULTS
    from conformance.targets.server import running_gateway

    spec = load_spec()
    durations = {}
    for fault_id in FAULTS:
        with running_gateway(spec, fault_id) as url:
            started = time.perf_counter()
            run(RunConfig(spec=spec, base_url=url))
            durations[fault_id] = time.perf_counter() - started
    slowest = max(durations, key=durations.__getitem__)
    return [
        row(
            "fault sweep",
            "median default run",
            statistics.median(durations.values()),
            "s",
            note=f"{len(durations)} faults",
        ),
        row("fault sweep", "slowest default run", durations[slowest], "s", "<= 30", slowest),
    ]
