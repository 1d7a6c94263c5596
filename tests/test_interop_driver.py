"""The `make interop` driver's plumbing: bounded waits, stop by PID, loopback-only gateways,
and the gateway configurations (no gateway is installed here: that is `make interop`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interop import procs
from interop.gateways import DEPLOYMENTS, GATEWAYS, HERE, Upstream

UPSTREAM = Upstream(url="http://127.0.0.1:9999", key="up-key-123456")


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_child_becomes_healthy_and_is_stopped_by_pid(tmp_path: Path) -> None:
    port = procs.free_port()
    server = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    child = procs.start("web", server, log=tmp_path / "web.log", cwd=tmp_path)
    try:
        assert procs.wait_http(child, f"http://127.0.0.1:{port}/", timeout=20.0) < 20.0
    finally:
        procs.stop(child)
    assert child.exited() is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()


def test_a_child_that_exits_fails_fast_with_its_log(tmp_path: Path) -> None:
    child = procs.start("dies", _py("print('boom'); raise SystemExit(3)"), log=tmp_path / "d.log")
    started = time.monotonic()
    with pytest.raises(procs.StartError, match="exited with 3") as info:
        procs.wait_http(child, "http://127.0.0.1:9/", timeout=30.0)
    assert time.monotonic() - started < 10.0
    assert "boom" in str(info.value)


def test_health_wait_is_bounded(tmp_path: Path) -> None:
    child = procs.start("mute", _py("import time; time.sleep(60)"), log=tmp_path / "m.log")
    try:
        started = time.monotonic()
        with pytest.raises(procs.StartError, match="not healthy"):
            procs.wait_http(child, f"http://127.0.0.1:{procs.free_port()}/", timeout=1.0)
        assert time.monotonic() - started < 5.0
    finally:
        procs.stop(child)
    assert child.exited() is not None


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    child = procs.start("stubborn", _py(code), log=tmp_path / "s.log")
    assert procs.first_line(child, timeout=20.0) == "up"
    started = time.monotonic()
    procs.stop(child, grace=0.5)
    assert child.exited() is not None
    assert time.monotonic() - started < 10.0
    procs.stop(child)  # twice is harmless


def test_first_line_of_a_silent_child_is_bounded(tmp_path: Path) -> None:
    child = procs.start("silent", _py("import time; time.sleep(60)"), log=tmp_path / "q.log")
    try:
        with pytest.raises(procs.StartError, match="no line"):
            procs.first_line(child, timeout=0.5)
    finally:
        procs.stop(child)


def test_litellm_routes_every_deployment_to_the_upstream_as_azure() -> None:
    config = GATEWAYS["litellm"].config(UPSTREAM, master_key="sk-master-000")
    models = config["model_list"]
    assert isinstance(models, list)
    assert [m["model_name"] for m in models] == list(DEPLOYMENTS)
    for entry in models:
        params = entry["litellm_params"]
        assert params["model"] == "azure/" + entry["model_name"]
        assert params["api_base"] == UPSTREAM.url
        assert params["api_key"] == UPSTREAM.key
    assert config["general_settings"] == {"master_key": "sk-master-000"}


def test_litellm_launch_serves_the_spec_path_on_loopback(tmp_path: Path) -> None:
    launch = GATEWAYS["litellm"].launch(tmp_path, 4321, UPSTREAM, tmp_path)
    assert launch.env["SERVER_ROOT_PATH"] == "/openai"
    assert launch.env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert launch.argv[launch.argv.index("--host") + 1] == "127.0.0.1"
    assert launch.health_url.startswith("http://127.0.0.1:4321/openai/")
    master = launch.suite_args[launch.suite_args.index("--api-key") + 1]
    assert master != UPSTREAM.key and master in launch.secrets


def test_portkey_is_run_with_its_profile_and_the_upstream_key(tmp_path: Path) -> None:
    gateway = GATEWAYS["portkey"]
    launch = gateway.launch(tmp_path, 4321, UPSTREAM, tmp_path)
    assert gateway.needs_profile
    assert launch.suite_args[launch.suite_args.index("--api-key") + 1] == UPSTREAM.key
    assert launch.argv[:2] == ["node", "--import"]
    assert launch.env["INTEROP_LISTEN_HOST"] == "127.0.0.1"


def test_portkey_pins_the_lockfile_versions_it_is_tested_with() -> None:
    lock = json.loads((HERE / "portkey" / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/@portkey-ai/gateway"]["version"] == "1.15.2"
    assert lock["node_modules/hono"]["version"] == "4.9.7"
    assert lock["node_modules/@hono/node-server"]["version"] == "1.13.5"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("listen", ["s.listen(0, done)", "s.listen({port: 0}, done)"])
def test_loopback_preload_keeps_a_node_server_on_127_0_0_1(listen: str) -> None:
    script = (
        "const s = require('http').createServer();"
        "const done = () => { console.log(s.address().address); s.close(); };" + listen
    )
    preload = (HERE / "portkey" / "loopback.mjs").as_uri()
    out = subprocess.run(
        ["node", "--import", preload, "-e", script], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "127.0.0.1"
