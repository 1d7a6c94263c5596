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
    with running_gateway(spec, pace=Pace(latency_s=0.4)) as url:
        status, slow = elapsed(url, BODY)
        refused, fast = elapsed(url, {"prompt": "no model"})
    assert status == 200 and slow >= 0.4
    assert refused == 400 and fast < 0.4


def test_image_delay_paces_each_streamed_image(spec: Spec) -> None:
    body = {**BODY, "n": 2, "stream": True}
    with running_gateway(spec, pace=Pace(image_delay_s=0.25)) as url:
        status, took = elapsed(url, body)
    assert status == 200 and took >= 0.5
