"""Target profiles and model presets: how a gateway mounts the route and takes credentials,
and what one model accepts.

A profile says where the image route is (`path`, `{deployment}` standing for the deployment,
None for the spec's own path), how the key is sent (`api-key` or `Authorization: Bearer`),
whether the api-version query goes along, extra headers (templates: `{deployment}`,
`{api_version}`, `{upstream}`), how many upstream calls a request may cause, and whether the
client credential is the upstream's key by design. A model preset is a list of `--narrow` rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["api-key", "bearer"]
OPENAI_PATH = "/v1/images/generations"


class ProfileError(ValueError):
    """An unknown profile or preset, or one that cannot apply (named in the message)."""


@dataclass(frozen=True)
class Profile:
    name: str
    path: str | None = None
    auth: Auth = "api-key"
    api_version: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    max_upstream_calls: int = 1
    credential_passes: bool = False

    def header_values(self, upstream: str | None) -> tuple[tuple[str, str], ...]:
        """The extra headers with `{upstream}` filled in; `{deployment}` and `{api_version}`
        stay for the client to fill per request."""
        if upstream is None and any("{upstream}" in v for _, v in self.headers):
            raise ProfileError(f"profile {self.name} needs --upstream URL (its headers name it)")
        base = (upstream or "").rstrip("/")
        return tuple((name, value.replace("{upstream}", base)) for name, value in self.headers)


PROFILES: dict[str, Profile] = {
    "bifrost": Profile("bifrost"),
    "azure": Profile("azure", path="/openai/deployments/{deployment}/images/generations"),
    "openai": Profile("openai", path=OPENAI_PATH, auth="bearer", api_version=False),
    "litellm": Profile("litellm", auth="bearer"),
    "portkey": Profile(
        "portkey",
        path=OPENAI_PATH,
        auth="bearer",
        api_version=False,
        headers=(
            ("x-portkey-provider", "azure-openai"),
            ("x-portkey-custom-host", "{upstream}/openai"),
            ("x-portkey-azure-deployment-id", "{deployment}"),
            ("x-portkey-azure-api-version", "{api_version}"),
        ),
        credential_passes=True,
    ),
}
"""Built-in profiles. `litellm`: its proxy with SERVER_ROOT_PATH=/openai serves the spec's
path and takes its key as a bearer token. `portkey`: its OpenAI-style route, the provider and
upstream chosen by `x-portkey-*` headers, the `Authorization` key passed on to the upstream."""

MODEL_PRESETS: dict[str, tuple[str, ...]] = {
    "dall-e-3": ("n<=1", "size=1024x1024,1792x1024,1024x1792", "stream=false"),
    "gpt-image-1": ("size=1024x1024,1536x1024,1024x1536,auto", "response_format=b64_json"),
}
"""What each model accepts, as narrowing rules (gpt-image-1 refuses `response_format`
upstream; narrowed to b64_json the suite still sends it in some cases: see docs/upstream.md)."""


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


def preset_rules(name: str | None) -> list[str]:
    if name is None:
        return []
    if name not in MODEL_PRESETS:
        raise ProfileError(f"unknown model preset {name!r}; known: {', '.join(MODEL_PRESETS)}")
    return list(MODEL_PRESETS[name])
