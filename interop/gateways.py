"""The gateways `make interop` runs: how each is installed under `.interop/`, launched on
loopback in front of the fake upstream, and pointed at by `conformance run`.

Pins live beside this file (interop/litellm/, interop/portkey/) so a clean clone installs
exactly what was tested.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from conformance.plan.positive import ESCAPED_DEPLOYMENT
from conformance.plan.upstream import FALLBACK_MODELS, ROUTED_DEPLOYMENT

HERE = Path(__file__).resolve().parent
API_VERSION = "2024-02-01"
# Deployments a gateway is configured with (the fake upstream accepts any name): every name the
# suite's cases route to (the percent-encoding case, the two-sided deployment and fallbacks).
DEPLOYMENTS = ("dall-e-3", "gpt-image-1", ESCAPED_DEPLOYMENT, ROUTED_DEPLOYMENT, *FALLBACK_MODELS)


@dataclass(frozen=True)
class Upstream:
    """The fake upstream as a gateway sees it: its root URL and the key it accepts."""

    url: str
    key: str


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    health_url: str
    health_timeout: float
    # `conformance run` arguments that point the suite at this gateway (without --base-url).
    suite_args: list[str] = field(default_factory=list)
    secrets: tuple[str, ...] = ()


class Gateway:
    """One third-party gateway. Subclasses say how to install and launch it."""

    name: str
    pins: tuple[str, ...]  # files (relative to interop/) whose content is the install
    # True when the gateway does not serve the spec's path and needs `--profile <name>`.
    needs_profile = False

    def home(self, root: Path) -> Path:
        return root / self.name

    def pins_digest(self) -> str:
        digest = hashlib.sha256()
        for rel in self.pins:
            digest.update(rel.encode() + b"\0" + (HERE / rel).read_bytes())
        return digest.hexdigest()

    def installed(self, root: Path) -> bool:
        stamp = self.home(root) / ".installed"
        return stamp.exists() and stamp.read_text().strip() == self.pins_digest()

    def install(self, root: Path, log: Path) -> None:
        home = self.home(root)
        home.mkdir(parents=True, exist_ok=True)
        (home / ".installed").unlink(missing_ok=True)
        with log.open("ab") as out:
            for argv in self.install_steps(home):
                out.write(("$ " + " ".join(argv) + "\n").encode())
                out.flush()
                subprocess.run(argv, cwd=home, stdout=out, stderr=subprocess.STDOUT, check=True)
        (home / ".installed").write_text(self.pins_digest())

    def install_steps(self, home: Path) -> list[list[str]]:
        raise NotImplementedError

    def launch(self, root: Path, port: int, upstream: Upstream, run_dir: Path) -> Launch:
        raise NotImplementedError


class LiteLLM(Gateway):
    """LiteLLM proxy: deployments `azure/<name>` with `api_base` at the fake upstream, served
    under SERVER_ROOT_PATH=/openai so its Azure route becomes the spec's path."""

    name = "litellm"
    pins = ("litellm/requirements.txt", "litellm/constraints.txt")

    def install_steps(self, home: Path) -> list[list[str]]:
        venv = home / "venv"
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        shutil.rmtree(venv, ignore_errors=True)
        return [
            [sys.executable, "-m", "venv", str(venv)],
            pip + ["--upgrade", "pip"],
            pip + ["-r", str(HERE / self.pins[0]), "-c", str(HERE / self.pins[1])],
        ]

    def config(self, upstream: Upstream, master_key: str) -> dict[str, object]:
        return {
            "model_list": [
                {
                    "model_name": name,
                    "litellm_params": {
                        "model": f"azure/{name}",
                        "api_base": upstream.url,
                        "api_key": upstream.key,
                        "api_version": API_VERSION,
                    },
                }
                for name in DEPLOYMENTS
            ],
            "general_settings": {"master_key": master_key},
        }

    def launch(self, root: Path, port: int, upstream: Upstream, run_dir: Path) -> Launch:
        master_key = "sk-" + os.urandom(12).hex()
        config = run_dir / "litellm-config.yaml"
        # JSON is YAML: no YAML writer needed; the file never holds a real secret.
        config.write_text(json.dumps(self.config(upstream, master_key), indent=2))
        env = dict(os.environ)
        env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", SERVER_ROOT_PATH="/openai")
        exe = self.home(root) / "venv" / "bin" / "litellm"
        argv = [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
        base = f"http://127.0.0.1:{port}"
        return Launch(
            argv=argv,
            env=env,
            cwd=run_dir,
            health_url=f"{base}/openai/health/liveliness",
            health_timeout=120.0,
            # The router retries a failed call twice (its default num_retries, 2) before it gives
            # up or falls back: declared retries, so up to 3 upstream calls per request.
            suite_args=["--base-url", base, "--api-key", master_key, "--max-upstream-calls", "3"],
            secrets=(master_key, upstream.key),
        )


class Portkey(Gateway):
    """Portkey gateway (npm), hono and @hono/node-server pinned to the project's own lockfile of
    that release; the provider and upstream are chosen per request by `x-portkey-*` headers
    (the suite's `portkey` profile sends them)."""

    name = "portkey"
    needs_profile = True
    pins = ("portkey/package.json", "portkey/package-lock.json")

    def install_steps(self, home: Path) -> list[list[str]]:
        for rel in self.pins:
            shutil.copyfile(HERE / rel, home / Path(rel).name)
        # --ignore-scripts: the only install script is patch-package, with no patches shipped.
        return [["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"]]

    def launch(self, root: Path, port: int, upstream: Upstream, run_dir: Path) -> Launch:
        server = self.home(root) / "node_modules/@portkey-ai/gateway/build/start-server.js"
        preload = HERE / "portkey" / "loopback.mjs"
        argv = ["node", "--import", preload.as_uri(), str(server), f"--port={port}", "--headless"]
        env = dict(os.environ)
        env["INTEROP_LISTEN_HOST"] = "127.0.0.1"
        # `--profile portkey` sends the x-portkey-* headers (provider azure-openai, custom host
        # <upstream>/openai, deployment, api-version) and the key as a bearer token, which is
        # the provider key by design: Portkey passes it on.
        suite_args = ["--base-url", f"http://127.0.0.1:{port}", "--api-key", upstream.key]
        return Launch(
            argv=argv,
            env=env,
            cwd=self.home(root),
            health_url=f"http://127.0.0.1:{port}/",
            health_timeout=30.0,
            suite_args=suite_args,
            secrets=(upstream.key,),
        )


GATEWAYS: dict[str, Gateway] = {g.name: g for g in (LiteLLM(), Portkey())}
