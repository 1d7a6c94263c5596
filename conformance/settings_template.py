"""`conformance init`: a settings file that works as written, for one built-in profile.

It names only settings that hold for any gateway of that profile: where it listens, the
profile, a small budget. What would change the verdict of a conforming gateway (a narrowing,
a baseline) is left commented out, with what it does, so a first run is never red for a
setting the user did not choose.
"""

from __future__ import annotations

from pathlib import Path

from conformance.configfile import CONFIG_FILE
from conformance.errors import UsageError
from conformance.profiles import PROFILES, profile

DEFAULT_URLS = {
    "litellm": "http://localhost:4000",
    "portkey": "http://localhost:8787",
}
"""Where each gateway listens out of the box (others: localhost:8080)."""
FALLBACK_URL = "http://localhost:8080"
FAKE_UPSTREAM = "http://localhost:9100"


def settings_text(profile_name: str = "bifrost", base_url: str | None = None) -> str:
    """The settings file `conformance init --profile NAME` writes."""
    chosen = profile(profile_name) if profile_name in PROFILES else None
    if chosen is None:
        raise UsageError(f"unknown profile {profile_name!r}; known: {', '.join(PROFILES)}")
    url = base_url or DEFAULT_URLS.get(chosen.name, FALLBACK_URL)
    needs_upstream = any("{upstream}" in value for _, value in chosen.headers)
    lines = [
        f"# {CONFIG_FILE}: the settings of `conformance run` (a flag given wins over the file).",
        "# Secrets belong in the environment: CONFORMANCE_API_KEY=... conformance run",
        f'profile = "{chosen.name}"',
        f'base_url = "{url}"',
        'deployment = "dall-e-3"        # the deployment (or model) your gateway routes',
        'budget = "smoke"               # a first run; "standard" (the default) for the full plan',
    ]
    if needs_upstream:
        lines += [
            f"# The {chosen.name} profile sends the upstream's URL in a header: start the fake",
            "# upstream (`conformance upstream --port 9100`) and point the gateway at it.",
            f'upstream = "{FAKE_UPSTREAM}"',
        ]
    lines += [
        "",
        "# Narrow the spec only for a deployment whose model accepts less than the spec allows",
        "# (Azure's dall-e-3: one image, three sizes, no streaming). Every value a rule removes",
        "# is then expected to be REFUSED (the run prints which), so a gateway that serves more",
        "# fails for it:",
        '# model_profile = "dall-e-3"',
        '# narrow = ["n<=1", "stream=false"]',
        "",
        "# Failures you accept for now, each with a reason (`--write-baseline FILE` writes one):",
        '# baseline = "conformance-baseline.toml"',
    ]
    return "\n".join(lines) + "\n"


def write_settings(path: Path, text: str, force: bool = False) -> Path:
    """Write `text` to `path`; an existing file is kept unless `force`."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; --force replaces it")
    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
