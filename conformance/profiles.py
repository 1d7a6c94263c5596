"""Target profiles and model presets: how a gateway mounts the route and takes credentials,
and what one model accepts.

A profile says where the image route is (`path`, `{deployment}` standing for the deployment,
None for the spec's own path), how the key is sent (`api-key` or `Authorization: Bearer`),
whether the api-version query goes along, extra headers (templates: `{deployment}`,
`{api_version}`, `{upstream}`), how many upstream calls a request may cause, and whether the
client credential is the upstream's key by design. A model preset is a list of `--narrow` rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

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

PROFILES_KEY = "profiles"
"""The configuration file's table of custom profiles: `[profiles.NAME]` (in pyproject.toml
`[tool.conformance.profiles.NAME]`), with the fields of `Profile` as keys."""


def custom_profile(name: str, table: Mapping[str, Any]) -> Profile:
    """A profile from a configuration file's `[profiles.NAME]` table (`headers` a table of
    header -> template); `ProfileError` names a wrong key or value."""
    where = f"[{PROFILES_KEY}.{name}]"
    if name in PROFILES:
        raise ProfileError(f"{where}: {name!r} is a built-in profile; give yours another name")
    known = {f.name for f in fields(Profile)} - {"name"}
    values: dict[str, Any] = {}
    for key, value in table.items():
        field_name = key.replace("-", "_")
        if field_name not in known:
            raise ProfileError(f"{where}: unknown key {key!r}; known: {', '.join(sorted(known))}")
        values[field_name] = value
    _expect(
        where,
        "path",
        values.get("path"),
        lambda v: v is None or (isinstance(v, str) and v.startswith("/")),
        "a path starting with /",
    )
    _expect(
        where,
        "auth",
        values.get("auth", "api-key"),
        lambda v: v in get_args(Auth),
        " or ".join(get_args(Auth)),
    )
    for flag in ("api_version", "credential_passes"):
        _expect(where, flag, values.get(flag, True), lambda v: isinstance(v, bool), "true or false")
    _expect(
        where,
        "max_upstream_calls",
        values.get("max_upstream_calls", 1),
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "an integer >= 1",
    )
    headers = values.get("headers", {})
    _expect(
        where,
        "headers",
        headers,
        lambda v: (
            isinstance(v, Mapping)
            and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
        ),
        "a table of header = template strings",
    )
    values["headers"] = tuple((k.lower(), v) for k, v in headers.items())
    return Profile(name, **values)


def _expect(where: str, key: str, value: Any, ok: Any, what: str) -> None:
    if not ok(value):
        raise ProfileError(f"{where}: {key} must be {what}, got {value!r}")


def resolve_profile(name: str, custom: Mapping[str, Profile] | None = None) -> Profile:
    """The built-in or custom profile called `name`."""
    known = {**PROFILES, **(custom or {})}
    if name not in known:
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(known)}")
    return known[name]


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
