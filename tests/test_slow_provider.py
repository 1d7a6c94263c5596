"""The reference gateway as a slow provider: latency before each answer, a delay per image."""

from __future__ import annotations

import time

import httpx

from conformance.spec import Spec
from conformance.targets.reference import Pace
from conformance.targets.server import running_gateway

ROUTE = "/openai/openai/deployments/dall-e-3/images/generations?api-version=2024-02-01"
BODY = {"model": "dall-e-3", "prompt": "a lighthouse", "size": "256x256"}


def elapsed(url: str, body: object) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.post(url + ROUTE, json=body, timeout=10)
    return response.status_code, time.monotonic() - started


def test_latency_delays_generated_answers_not_refusals(spec: Spec) -> None:
    with running_gateway(spec, pace=Pace(latency_s=1.5)) as url:
        status, slow = elapsed(url, BODY)
        refused, fast = elapsed(url, {"prompt": "no model"})
    assert status == 200 and slow >= 1.5
    assert refused == 400 and fast < 1.0  # a refusal never waits for the provider


def test_image_delay_paces_each_streamed_image(spec: Spec) -> None:
    body = {**BODY, "n": 2, "stream": True}
    with running_gateway(spec, pace=Pace(image_delay_s=0.25)) as url:
        status, took = elapsed(url, body)
    assert status == 200 and took >= 0.5


def test_serve_refuses_a_negative_latency() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "serve", "--latency", "-1", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--latency" in done.stderr


def test_rate_paces_requests_whatever_the_worker_count(spec: Spec, gateway_url: str) -> None:
    from conformance.config import DEFAULT_WORKERS, RunConfig
    from conformance.run import run

    started = time.monotonic()
    result = run(
        RunConfig(spec=spec, base_url=gateway_url, budget="smoke", rate=10, max_requests=6)
    )
    assert DEFAULT_WORKERS > 1 and result.stats.requests == 6
    assert time.monotonic() - started >= 0.5  # five gaps of 1/10 s between six requests
