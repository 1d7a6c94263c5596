"""Target profiles put the route, key and headers where each gateway wants them; model presets
narrow the spec; both are named in the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.client import Client
from conformance.config import Target, run_config
from conformance.configfile import load_config
from conformance.errors import UsageError
from conformance.model import Case
from conformance.profiles import PROFILES, ProfileError, preset_rules
from conformance.spec import Spec
from conformance.targets.server import running_app

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


def test_a_profile_of_ones_own_from_the_configuration_file(tmp_path: Path) -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen.append((scope["path"], scope["query_string"].decode(), headers))
        body = b'{"error": {"message": "no", "type": "invalid_request_error"}}'
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    config = tmp_path / "conformance.toml"
    config.write_text(
        'profile = "kong"\n'
        "[profiles.kong]\n"
        'path = "/ai/{deployment}/images"\n'
        'auth = "bearer"\n'
        "api-version = false\n"
        'headers = { "X-Route" = "images-{deployment}" }\n'
    )
    with running_app(recording) as url:
        code = main(
            [
                "run",
                "--config",
                str(config),
                "--base-url",
                url,
                "--api-key",
                "k-123",
                "--max-requests",
                "3",
                "--report-dir",
                str(tmp_path / "r"),
            ]
        )
    assert code in (1, 2) and len(seen) == 3
    for path, query, headers in seen:
        assert path == "/ai/dall-e-3/images" and "api-version" not in query
        assert headers["authorization"] == "Bearer k-123" and "api-key" not in headers
        assert headers["x-route"] == "images-dall-e-3"
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert "kong" in results["target"]


def test_an_unknown_profile_lists_the_custom_ones_too(tmp_path: Path) -> None:
    config = tmp_path / "conformance.toml"
    config.write_text('[profiles.mine]\npath = "/x"\n')
    values = {**load_config(config), "profile": "theirs", "base_url": "http://gw"}
    with pytest.raises(UsageError, match=r"unknown profile 'theirs'; known: .*portkey, mine"):
        run_config(values)
