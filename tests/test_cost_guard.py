"""Cost guard: --dry-run sends nothing; --max-requests is a hard cap (counted by the server)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.config import RunConfig
from conformance.gate import decide
from conformance.run import make_plan, run
from conformance.spec import Spec
from conformance.targets.reference import create_app
from conformance.targets.server import running_app


@dataclass
class Counter:
    url: str = ""
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def counting_gateway(spec: Spec) -> Iterator[Counter]:
    """The reference gateway behind a wrapper that counts every HTTP request it receives."""
    counter = Counter()
    app = create_app(spec)

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            counter.requests.append(f"{scope['method']} {scope['path']}")
        await app(scope, receive, send)

    with running_app(counting) as url:
        counter.url = url
        yield counter


def test_dry_run_sends_nothing_and_prints_the_plan(
    counting_gateway: Counter, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--base-url",
            counting_gateway.url,
            "--dry-run",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert counting_gateway.requests == []
    assert not list(tmp_path.iterdir())
    summary = json.loads(done.stdout.split("\n", 1)[1])
    assert summary["requests"] > 0 and summary["images_requested"] > 0
    by_source = summary["requests_by_source"]
    assert by_source["plan"] == summary["requests"]
    assert by_source["two_sided"] == 0  # no upstream is watched behind a given --base-url
    assert by_source["sdk_probe"] > 0
    assert summary["requests_estimate"] == sum(by_source.values())
    assert summary["image_url_fetches"] > 0


@pytest.mark.parametrize("cap", [1, 9, 60])
def test_max_requests_is_never_exceeded(counting_gateway: Counter, spec: Spec, cap: int) -> None:
    result = run(RunConfig(spec=spec, base_url=counting_gateway.url, max_requests=cap))
    posts = [r for r in counting_gateway.requests if r.startswith("POST")]
    # The reachability probe is a HEAD outside the budget; everything else counts.
    sent = [r for r in counting_gateway.requests if not r.startswith("HEAD")]
    assert len(sent) <= cap
    assert result.stats.requests == len(sent)
    assert posts, "the budget must still allow cases to be sent"
    # What the budget cut is listed: cases the plan dropped, or cases left unsent.
    full = make_plan(RunConfig(spec=spec)).cases
    listed = {*result.coverage["cut"]["cases"], *result.coverage.get("unsent", {}).get("cases", [])}
    assert len(listed) >= len(full) - len(posts)


def test_default_run_reports_what_it_sent(counting_gateway: Counter, spec: Spec) -> None:
    result = run(RunConfig(spec=spec, base_url=counting_gateway.url))
    sent = [r for r in counting_gateway.requests if not r.startswith("HEAD")]
    assert result.stats.requests == len(sent)
    assert result.stats.images >= result.stats.cases // 2
    assert not decide(result).failed
