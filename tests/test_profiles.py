"""Target profiles put the route, key and headers where each gateway wants them; model presets
narrow the spec; both are named in the report."""

from __future__ import annotations

import pytest

from conformance.cli import main
from conformance.client import Client
from conformance.config import Target
from conformance.model import Case
from conformance.profiles import PROFILES, ProfileError, preset_rules
from conformance.spec import Spec

CASE = Case(id="c", kind="positive", title="t", expect="success", body={"prompt": "x"})


def built(
    spec: Spec, name: str, upstream: str | None = None, **case: object
) -> tuple[str, dict[str, str]]:
    profile = PROFILES[name]
    target = Target(
        base_url="http://gw",
        deployment="dep",
        api_key="secret-key",
        profile_headers=profile.header_values(upstream),
        path=profile.path,
        bearer=profile.auth == "bearer",
        send_api_version=profile.api_version,
    )
    sent = Client(target, spec.operation).build(Case(**{**CASE.__dict__, **case}))  # type: ignore[arg-type]
    return sent.url, sent.headers


def test_bifrost_is_the_spec_path_with_api_key(spec: Spec) -> None:
    url, headers = built(spec, "bifrost")
    assert (
        url == "http://gw/openai/openai/deployments/dep/images/generations?api-version=2024-02-01"
    )
    assert headers["api-key"] == "secret-key" and "authorization" not in headers


def test_azure_and_openai_paths(spec: Spec) -> None:
    url, _ = built(spec, "azure", deployment="d 2")
    assert url == "http://gw/openai/deployments/d%202/images/generations?api-version=2024-02-01"
    url, headers = built(spec, "openai")
    assert url == "http://gw/v1/images/generations"
    assert headers["authorization"] == "Bearer secret-key" and "api-key" not in headers


def test_portkey_headers_name_the_upstream_deployment_and_version(spec: Spec) -> None:
    url, headers = built(
        spec, "portkey", upstream="http://up:9/", deployment="other", api_version="2024-10-21"
    )
    assert url == "http://gw/v1/images/generations"
    assert headers["x-portkey-provider"] == "azure-openai"
    assert headers["x-portkey-custom-host"] == "http://up:9/openai"
    assert headers["x-portkey-azure-deployment-id"] == "other"
    assert headers["x-portkey-azure-api-version"] == "2024-10-21"
    with pytest.raises(ProfileError):
        PROFILES["portkey"].header_values(None)


def test_presets_and_unknown_names() -> None:
    assert "n<=1" in preset_rules("dall-e-3")
    assert preset_rules(None) == []
    with pytest.raises(ProfileError):
        preset_rules("dall-e-2")


def test_cli_refuses_what_cannot_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "nope", "--dry-run"]) == 2
    assert main(["run", "--profile", "openai", "--dry-run"]) == 2  # embedded: spec path only
    assert (
        main(["run", "--profile", "portkey", "--base-url", "http://127.0.0.1:9", "--dry-run"]) == 2
    )
    assert "needs --upstream" in capsys.readouterr().err


def test_a_preset_run_is_named_in_the_report(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    code = main(
        [
            "run",
            "--model-profile",
            "dall-e-3",
            "--max-examples",
            "1",
            "--quiet",
            "--report-dir",
            str(out),
        ]
    )
    import json

    results = json.loads((out / "results.json").read_text())
    assert "model preset dall-e-3" in results["target"]
    assert "n<=1" in results["spec_source"]
    assert code == 0, [c["check_id"] for c in results["checks"] if c["status"] == "failed"]


def test_a_profiles_own_headers_are_sent_but_not_secrets() -> None:
    from conformance.config import Target

    headers = PROFILES["portkey"].header_values("http://127.0.0.1:9")
    target = Target("http://127.0.0.1:8", api_key="sk-portkey-key", profile_headers=headers)
    assert target.secrets() == ["sk-portkey-key"]
    assert dict(headers)["x-portkey-custom-host"] == "http://127.0.0.1:9/openai"
