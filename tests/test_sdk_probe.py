"""SDK-COMPAT: judged from the official SDK's outcomes; not judged (with the reason) without
the SDK."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from exchanges import case, exchange, spec

from conformance.checks.registry import RunContext, SdkOutcome, get
from conformance.config import Bounds, Target
from conformance.sdk_probe import probe


def judge(outcomes: list[SdkOutcome] | None) -> object:
    s = spec()
    ctx = RunContext(s, s.operation, [], lambda url: None, sdk=outcomes)  # type: ignore[arg-type,return-value]
    return get("SDK-COMPAT").func(ctx)


def test_not_judged_without_the_sdk() -> None:
    assert judge(None) is None


def test_outcomes_pass_and_fail() -> None:
    ok, bad = exchange(case()), exchange(case())
    outcome = judge([SdkOutcome(ok, None), SdkOutcome(bad, "JSONDecodeError: Expecting value")])
    assert outcome[0] == (ok, [])  # type: ignore[index]
    assert "JSONDecodeError" in outcome[1][1][0].message  # type: ignore[index]


def test_probe_says_why_when_the_sdk_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # import openai -> ImportError
    outcomes, reason = probe(
        Target("http://127.0.0.1:9"), spec().operation, Bounds(), lambda b: True
    )
    assert outcomes is None and "not installed" in reason


def test_probe_against_the_reference_gateway(gateway_url: str) -> None:
    pytest.importorskip("openai")
    sent: list[dict[str, object]] = []
    outcomes, _ = probe(
        Target(gateway_url, api_key="k"),
        spec().operation,
        Bounds(),
        lambda body: sent.append(body) or True,
    )
    assert outcomes is not None and [o.error for o in outcomes] == [None] * 4
    assert [o.exchange.status for o in outcomes] == [200] * 4
    assert {b.get("response_format") for b in sent} == {"b64_json", "url", None}


def test_the_probes_send_the_profiles_headers_filled_in() -> None:
    """A profile that carries the deployment and api-version in headers (Portkey's) gets them
    from the SDK too, filled in as the suite's own requests have them."""
    pytest.importorskip("openai")
    from conformance.profiles import PROFILES
    from conformance.targets.server import running_app

    seen: list[dict[str, str]] = []

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    portkey = PROFILES["portkey"]
    with running_app(recording) as url:
        target = Target(
            url,
            deployment="dep-1",
            api_version="2024-10-21",
            api_key="k",
            profile_headers=portkey.header_values("http://up:9"),
            path=portkey.path,
            bearer=True,
            send_api_version=False,
        )
        probe(target, spec().operation, Bounds(total_timeout=10), lambda body: True, ["b64_json"])
    assert seen, "the SDK sent nothing"
    assert seen[0]["x-portkey-azure-deployment-id"] == "dep-1"
    assert seen[0]["x-portkey-azure-api-version"] == "2024-10-21"
    assert seen[0]["x-portkey-custom-host"] == "http://up:9/openai"


def test_a_probe_whose_status_line_trickles_is_cut_at_its_bound_and_at_a_stop() -> None:
    """The SDK's client waits per read, so a header line every 100 ms never times it out: the
    probe's bound and the run's stop cut it all the same."""
    pytest.importorskip("openai")
    import time

    from hostile import behaviours as hb
    from hostile import serving

    bounds = Bounds(read_timeout=0.5, total_timeout=0.5, max_stream_s=0.5)
    limit = bounds.first_byte_s + bounds.max_stream_s
    for stop_after in (None, 0.3):
        stop = threading.Event()
        if stop_after is not None:
            threading.Timer(stop_after, stop.set).start()
        with serving(hb.trickled_headers) as server:
            started = time.monotonic()
            outcomes, note = probe(
                Target(server.url, api_key="k"),
                spec().operation,
                bounds,
                lambda b: True,
                names=["b64_json"],
                stop=stop,
            )
            elapsed = time.monotonic() - started
        assert elapsed < limit + 2.0, f"the probe ran {elapsed:.1f}s past a {limit:g}s bound"
        if stop_after is None:
            assert outcomes and outcomes[0].error and "no complete answer" in outcomes[0].error
        else:
            assert note.startswith("stopped")
