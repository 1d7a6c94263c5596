"""What a run is asked to do, and the one table of options that sets it.

`OPTIONS` lists every setting of `conformance run` once: flag, type, default, help. The CLI
builds its argparse groups from it, the pytest plugin its `--gateway-*` options, and
`run_config(values)` turns the values (from either, or from a configuration file) into a
`RunConfig`. A setting added here exists everywhere at once.
"""

from __future__ import annotations

import argparse
import functools
import os
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import UsageError
from conformance.profiles import (
    PROFILES,
    PROFILES_KEY,
    Profile,
    ProfileError,
    preset_rules,
    resolve_profile,
)

if TYPE_CHECKING:
    from conformance.checks.registry import Check
    from conformance.plan.prices import PriceTable
    from conformance.spec import Spec

if TYPE_CHECKING:
    from conformance.select import Shard

MiB = 1024 * 1024
API_KEY_ENV = "CONFORMANCE_API_KEY"
DEFAULT_WORKERS = 16
"""Concurrent requests. Measured (`benchmarks/run.py --only latency --latency-budget standard`):
a standard run against a provider answering in 2 s took 177 s with 1 worker, 44 s with 4 and
13.5 s with 16 (near linear); against a local gateway 16 is no slower than 4. `--rate` paces
the requests whatever the worker count."""


@dataclass(frozen=True)
class Bounds:
    """Limits applied to every request the suite makes."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body_bytes: int = 96 * MiB
    max_events: int = 2000
    max_stream_s: float = 60.0
    stream_grace_s: float = 2.0
    """How long a stream may stay open once it delivered every image it was asked for."""
    first_byte_timeout: float | None = None
    """How long to wait for the status line; None: `total_timeout`."""

    @property
    def first_byte_s(self) -> float:
        return min(self.first_byte_timeout or self.total_timeout, self.total_timeout)


@dataclass(frozen=True)
class Target:
    """Where and how to reach the gateway."""

    base_url: str
    deployment: str = "dall-e-3"
    api_version: str | None = "2024-02-01"
    api_key: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    model: str = "dall-e-3"
    ca_bundle: str | None = None
    """CA certificates (PEM file) to trust instead of the default bundle."""
    path: str | None = None
    """The route as the target profile mounts it (`{deployment}` for the deployment);
    None: the spec's path."""
    bearer: bool = False
    """Send the key as `Authorization: Bearer` instead of `api-key`."""
    send_api_version: bool = True
    profile_headers: tuple[tuple[str, str], ...] = ()
    """Headers the target profile adds (provider, upstream host): settings, not secrets."""

    def extra_headers(self, deployment: str, api_version: str | None) -> dict[str, str]:
        """The profile's headers and every `--header`, their `{deployment}` and `{api_version}`
        filled in for one request (names lowercased)."""
        return {
            name.lower(): value.replace("{deployment}", deployment).replace(
                "{api_version}", api_version or ""
            )
            for name, value in (*self.profile_headers, *self.headers)
        }

    def secrets(self) -> list[str]:
        """The api key and every `--header` value (a profile's own headers are no secret)."""
        values = [v for _, v in self.headers]
        if self.api_key:
            values.append(self.api_key)
        return [v for v in values + url_secrets(self.base_url) if v]


@dataclass
class RunConfig:
    """Everything a run needs; `base_url=None` means the embedded reference gateway."""

    spec: Spec
    base_url: str | None = None
    deployment: str = "dall-e-3"
    api_version: str | None = "2024-02-01"
    api_key: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    model: str = "dall-e-3"
    seed: int = 0
    max_examples: int | None = None
    max_requests: int | None = None
    bounds: Bounds = field(default_factory=Bounds)
    strict: bool = False
    workers: int = DEFAULT_WORKERS
    rate: float | None = None
    max_duration: float | None = None
    shrink: bool = True
    fault: str | None = None
    max_timeouts: int | None = None
    """Consecutive transport timeouts after which the gateway counts as unresponsive and the
    run stops sending; None: as many as there are workers (one wave)."""
    allow_private_urls: bool = False
    """Fetch image URLs on private or loopback addresses even when the gateway is not on one."""
    ca_bundle: str | None = None
    """A PEM file of CA certificates to trust instead of the certifi bundle (`--ca-bundle`)."""
    budget: str = "standard"
    """The budget preset (`conformance.plan.presets`): smoke, standard or deep."""
    price_table: PriceTable | None = None
    """Prices for the cost estimate; None: the list prices shipped with the package."""
    wait_for: float | None = None
    """Seconds to wait for the gateway to answer before the run starts (`--wait-for`)."""
    checks: tuple[str, ...] = ()
    """Judge only these check IDs (empty: every check); the plan sends only their cases."""
    exclude_checks: tuple[str, ...] = ()
    shard: Shard | None = None
    """Send only this part of the plan (`--shard I/N`)."""
    now_refused: tuple[str, ...] = ()
    """What the narrowing (--narrow, --model-profile) turned from valid into must-refuse."""
    stop: threading.Event = field(default_factory=threading.Event)
    upstream: str | None = None
    """The fake upstream the gateway calls (its records are read): adds the two-sided cases.
    Without `base_url` the embedded pair is started and this stays None."""
    max_upstream_calls: int = 1
    credential_passes: bool = False
    profile: Profile = field(default_factory=lambda: PROFILES["bifrost"])
    """How the target mounts the route and takes credentials (conformance.profiles)."""
    model_preset: str | None = None
    """The model preset the spec was narrowed to (named in the report)."""
    narrowed: tuple[str, ...] = ()
    """The narrowing rules applied to the spec (`--narrow`, `--model-profile`)."""
    required: tuple[str, ...] = ()
    """`--require`: out-of-scope groups (`two-sided`, `sdk`) or check IDs the run must judge."""

    def secrets(self) -> list[str]:
        """Every value that must never be printed or stored."""
        values = [v for _, v in self.headers] + ([self.api_key] if self.api_key else [])
        return [v for v in values + url_secrets(self.base_url) if v]


def url_secrets(url: str | None) -> list[str]:
    """The password of a `scheme://user:password@host` URL, as written and decoded."""
    from urllib.parse import unquote, urlsplit

    if not url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def gateway_url(text: str) -> str:
    """A gateway URL: http:// or https:// with a host (anything else is a usage error)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise UsageError(f"--base-url is not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(
            "--base-url must start with http:// or https:// and name a host, "
            f"e.g. http://localhost:8080 (got scheme {parts.scheme or 'none'!r})"
        )
    return text


def with_base_path(base_url: str, base_path: str) -> str:
    """`base_url` with the document's server path (`/v1`) appended, unless it holds a path of
    its own already (then the user said where the API lives)."""
    from urllib.parse import urlsplit

    if not base_path or urlsplit(base_url).path.strip("/"):
        return base_url
    return base_url.rstrip("/") + "/" + base_path.strip("/")


# -- value parsers (argparse-compatible: they raise ArgumentTypeError) -----------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


def rate(text: str) -> float:
    return positive_float(str(text).removesuffix("/s"))


def header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"--header must look like 'Name: value', got {text.split(':')[0]!r}")
    return name.strip(), value.strip()


# -- the table -----------------------------------------------------------------------------


class OneFault(argparse.Action):
    """`--fault` (and the pytest plugin's `--gateway-fault`): the reference gateway takes one
    fault at a time, so a second one is refused (argparse would keep the last silently)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        previous = getattr(namespace, self.dest, None)
        if isinstance(previous, str) and previous != values:
            parser.error(
                f"{option_string} given twice ({previous}, {values}): the reference gateway "
                "takes one fault per run; run once per fault"
            )
        setattr(namespace, self.dest, values)


@dataclass(frozen=True)
class Option:
    """One setting of a run, as a CLI flag and a pytest option."""

    name: str
    """The key in `run_config(values)` (and in a configuration file)."""
    group: str
    help: str
    type: Callable[[str], Any] | None = None
    default: Any = None
    action: str | None = None
    """`store_true` for switches, `append` for repeatable flags, `one-fault` for `--fault`
    (a second fault is refused: `OneFault`)."""
    metavar: str | None = None
    pytest_name: str | None = None
    """The pytest option when not `--gateway-<flag>`."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def pytest_flag(self) -> str:
        return self.pytest_name or "--gateway-" + self.name.replace("_", "-")

    def argparse_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"help": self.help + self._default_text(), "dest": self.name}
        if self.action == "store_true":
            kwargs.update(action="store_true", default=False)
        elif self.action == "append":
            kwargs.update(action="append", default=[])
        elif self.action == "one-fault":
            kwargs.update(action=OneFault, default=self.default)
        else:
            kwargs["default"] = self.default
            if self.type is not None:
                kwargs["type"] = self.type
        if self.metavar:
            kwargs["metavar"] = self.metavar
        return kwargs

    def _default_text(self) -> str:
        if self.action or self.default is None:
            return ""
        return f" (default: {self.default})"


TARGET, PLAN, BOUNDS, OUTPUT = "target", "plan", "bounds and pacing", "verdict and output"
COST = "cost"


def budget_name(text: str) -> str:
    from conformance.plan.presets import PRESETS

    if text not in PRESETS:
        raise argparse.ArgumentTypeError(f"unknown budget {text!r}; choose {', '.join(PRESETS)}")
    return text


def _budget_help() -> str:
    from conformance.plan.presets import PRESETS

    return "how much to send: " + "; ".join(f"{p.name}: {p.summary}" for p in PRESETS.values())


OPTIONS: tuple[Option, ...] = (
    Option(
        "base_url",
        TARGET,
        "gateway URL (http:// or https://); default: the embedded reference gateway",
        pytest_name="--gateway-url",
    ),
    Option("spec", TARGET, "OpenAPI document (path or URL); default: the bundled one"),
    Option(
        "operation",
        TARGET,
        "the operation to test: an operationId or 'METHOD /path' (default: the document's "
        "one image-generation operation)",
        metavar="ID",
    ),
    Option(
        "deployment",
        TARGET,
        "the path parameter(s) of the route, e.g. deployment-id",
        default="dall-e-3",
    ),
    Option("api_version", TARGET, "api-version query parameter", default="2024-02-01"),
    Option(
        "model",
        TARGET,
        "the body's `model` (default: the --model-profile's model, else dall-e-3)",
        metavar="NAME",
    ),
    Option(
        "api_key",
        TARGET,
        "sent where the document's security scheme says (header, query or bearer); "
        f"`api-key` header when it says nothing (default: env {API_KEY_ENV})",
    ),
    Option("header", TARGET, "extra header, repeatable", action="append", metavar="'Name: value'"),
    Option(
        "ca_bundle",
        TARGET,
        "PEM file of the CA certificates to trust for the gateway and its image URLs "
        "(default: the certifi bundle)",
        metavar="FILE",
    ),
    Option(
        "fault",
        TARGET,
        "embedded target only: switch on a fault (default: none)",
        action="one-fault",
    ),
    Option(
        "narrow",
        TARGET,
        "narrow the spec to what the deployment's model supports, repeatable: "
        "'n<=1', 'size=1024x1024,1792x1024', 'stream=false'",
        action="append",
        metavar="RULE",
    ),
    Option(
        "upstream",
        TARGET,
        "the fake upstream the gateway calls (`conformance upstream`): adds the two-sided "
        "checks; the embedded gateway gets a fake upstream of its own",
        metavar="URL",
    ),
    Option(
        "profile",
        TARGET,
        "how the target mounts the route and takes its key: bifrost (the spec's path, "
        "api-key), azure, openai, litellm, portkey, or one of the configuration file's "
        "[profiles.NAME]",
        default="bifrost",
    ),
    Option(
        "model_profile",
        TARGET,
        "fit the spec to what this model accepts (as --narrow): dall-e-3, gpt-image-1",
        metavar="MODEL",
    ),
    Option(
        "max_upstream_calls",
        TARGET,
        "upstream calls a request without fallbacks may cause (the gateway's retries)",
        type=positive_int,
        default=1,
    ),
    Option(
        "credential_passes",
        TARGET,
        "the client credential is the upstream's key by design (Portkey's Authorization): "
        "FWD-NO-CLIENT-CREDENTIAL is not judged",
        action="store_true",
    ),
    Option("seed", PLAN, "generation seed", type=int, default=0),
    Option("max_examples", PLAN, "random valid bodies to send (default: 25)", type=positive_int),
    Option("max_requests", PLAN, "hard cap on requests sent (default: no cap)", type=positive_int),
    Option("no_shrink", PLAN, "do not minimise failing cases", action="store_true"),
    Option(
        "checks",
        PLAN,
        "judge only these checks (comma-separated IDs, repeatable); only the cases they can "
        "judge are sent",
        action="append",
        metavar="ID[,ID...]",
    ),
    Option(
        "exclude_checks",
        PLAN,
        "judge every check but these (comma-separated IDs, repeatable)",
        action="append",
        metavar="ID[,ID...]",
    ),
    Option(
        "shard",
        PLAN,
        "send only part I of N of the plan (by case id; `conformance merge` joins the parts)",
        metavar="I/N",
    ),
    Option("timeout", BOUNDS, "per request (s)", type=positive_float, default=60.0),
    Option("connect_timeout", BOUNDS, "connect (s)", type=positive_float, default=5.0),
    Option(
        "first_byte_timeout",
        BOUNDS,
        "wait for the status line (s) (default: --timeout)",
        type=positive_float,
    ),
    Option(
        "read_timeout",
        BOUNDS,
        "between bytes, once the answer started (s)",
        type=positive_float,
        default=30.0,
    ),
    Option("max_body_mb", BOUNDS, "cap on a body read", type=positive_float, default=96.0),
    Option("max_events", BOUNDS, "cap on a stream's events", type=positive_int, default=2000),
    Option("max_stream_s", BOUNDS, "cap on a stream (s)", type=positive_float, default=60.0),
    Option(
        "stream_grace_s",
        BOUNDS,
        "how long a stream may stay open after its last expected image (s)",
        type=positive_float,
        default=2.0,
    ),
    Option(
        "wait_for",
        BOUNDS,
        "wait up to this long for the gateway to answer on the route before starting (s); "
        "exit 3 with the last error if it never does (default: no wait)",
        type=positive_float,
        metavar="SECONDS",
    ),
    Option("max_duration", BOUNDS, "whole-run deadline (s) (default: none)", type=positive_float),
    Option("workers", BOUNDS, "concurrent requests", type=positive_int, default=DEFAULT_WORKERS),
    Option("rate", BOUNDS, "requests per second, e.g. 5 or 5/s (default: unpaced)", type=rate),
    Option(
        "max_timeouts",
        BOUNDS,
        "consecutive transport timeouts after which the gateway counts as unresponsive and "
        "the run stops (default: --workers, one wave)",
        type=positive_int,
    ),
    Option(
        "allow_private_urls",
        BOUNDS,
        "fetch image URLs on private/loopback addresses even when the gateway is not on one "
        "(link-local addresses are never fetched)",
        action="store_true",
    ),
    Option("budget", COST, _budget_help(), type=budget_name, default="standard"),
    Option(
        "price_table",
        COST,
        "prices per model, quality and size (TOML or YAML); default: OpenAI list prices, 2025",
        type=Path,
        metavar="FILE",
    ),
    Option("strict", OUTPUT, "SHOULD failures also fail the gate", action="store_true"),
    Option("baseline", OUTPUT, "expected failures, TOML or YAML (default: none)", type=Path),
    Option("strict_baseline", OUTPUT, "stale baseline entries fail the gate", action="store_true"),
    Option(
        "require",
        OUTPUT,
        "checks that must not be out of scope: two-sided (needs --upstream), sdk (needs the "
        "openai package) or check IDs, comma-separated, repeatable; one left unjudged makes "
        "the run INCOMPLETE (exit 4)",
        action="append",
        metavar="two-sided|sdk|ID[,...]",
    ),
)
"""Every setting of a run. CLI-only switches (--dry-run, --quiet, --report-dir, ...) that do
not change what is sent or judged live in the CLI."""

DEFAULTS: dict[str, Any] = {
    o.name: ([] if o.action == "append" else False if o.action == "store_true" else o.default)
    for o in OPTIONS
}


def run_config(values: Mapping[str, Any], env: Mapping[str, str] | None = None) -> RunConfig:
    """The `RunConfig` that `values` (option name -> value; missing names take defaults) ask
    for. Loads and narrows the spec; raises `UsageError` or `SpecError` as one line."""
    from conformance.checks.registry import catalogue
    from conformance.select import check_ids, parse_shard, select_checks
    from conformance.spec import load_spec, narrow
    from conformance.spec.refused import newly_refused

    env = os.environ if env is None else env
    v = {**DEFAULTS, **{k: val for k, val in values.items() if val is not None}}
    if v["fault"] and v["base_url"]:
        raise UsageError("--fault applies to the embedded reference gateway; drop --base-url")
    include, exclude = check_ids(v["checks"]), check_ids(v["exclude_checks"])
    select_checks(catalogue(), include, exclude)  # unknown IDs are a usage error, now
    shard = parse_shard(v["shard"]) if v["shard"] else None
    required = _required(check_ids(v["require"]), catalogue(), exclude)
    try:
        chosen = resolve_profile(v["profile"], v.get(PROFILES_KEY))
        rules = preset_rules(v["model_profile"])
        if v["base_url"]:
            chosen.header_values(v["upstream"])  # a profile that names the upstream needs it
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if chosen.path is not None and not v["base_url"]:
        raise UsageError(
            f"--profile {chosen.name} needs --base-url: the embedded gateway serves the spec's path"
        )
    narrowing = [*rules, *(v["narrow"] or [])]
    full = load_spec(v["spec"], operation=v["operation"])
    spec = narrow(full, narrowing)
    base_url = gateway_url(v["base_url"]) if v["base_url"] else None
    if base_url and chosen.path is None:
        base_url = with_base_path(base_url, spec.operation.base_path)
    return RunConfig(
        spec=spec,
        base_url=base_url,
        deployment=v["deployment"],
        api_version=v["api_version"] or None,
        api_key=v["api_key"] or env.get(API_KEY_ENV) or None,
        headers=tuple(header(h) for h in v["header"] or []),
        model=v["model"] or v["model_profile"] or RunConfig.model,
        seed=int(v["seed"]),
        max_examples=v["max_examples"],
        max_requests=v["max_requests"],
        bounds=Bounds(
            connect_timeout=v["connect_timeout"],
            read_timeout=min(v["read_timeout"], v["timeout"]),
            total_timeout=v["timeout"],
            max_body_bytes=int(v["max_body_mb"] * MiB),
            max_events=v["max_events"],
            max_stream_s=v["max_stream_s"],
            stream_grace_s=v["stream_grace_s"],
            first_byte_timeout=v["first_byte_timeout"],
        ),
        strict=bool(v["strict"]),
        workers=v["workers"],
        rate=v["rate"],
        max_duration=v["max_duration"],
        shrink=not v["no_shrink"],
        fault=v["fault"] or None,
        max_timeouts=v["max_timeouts"],
        allow_private_urls=bool(v["allow_private_urls"]),
        ca_bundle=_ca_bundle(v["ca_bundle"]),
        upstream=v["upstream"] or None,
        max_upstream_calls=v["max_upstream_calls"],
        credential_passes=bool(v["credential_passes"]),
        profile=chosen,
        model_preset=v["model_profile"] or None,
        narrowed=tuple(narrowing),
        required=required,
        budget=v["budget"],
        price_table=_price_table(v["price_table"]),
        wait_for=v["wait_for"],
        checks=include,
        exclude_checks=exclude,
        shard=shard,
        now_refused=tuple(newly_refused(full.operation, spec.operation))
        if spec is not full
        else (),
    )


def _required(
    names: tuple[str, ...], known: Sequence[Check], excluded: tuple[str, ...]
) -> tuple[str, ...]:
    """`--require` values: a group of `conformance.scope.REQUIRE_GROUPS` or a known check ID
    that the run does not exclude."""
    from conformance.scope import REQUIRE_GROUPS

    ids = {c.id for c in known}
    groups_of = {g.upper(): g for g in REQUIRE_GROUPS}  # the IDs came upper-cased
    names = tuple(groups_of.get(name, name) for name in names)
    for name in names:
        if name not in REQUIRE_GROUPS and name not in ids:
            groups = ", ".join(REQUIRE_GROUPS)
            raise UsageError(f"--require {name!r}: expected {groups} or a check ID")
        if name in excluded:
            raise UsageError(f"--require {name} and --exclude-checks {name} contradict")
    return names


def _ca_bundle(path: Any) -> str | None:
    if not path:
        return None
    try:
        tls_verify(str(path))
    except (OSError, ssl.SSLError) as exc:
        why = f"not a readable PEM file of certificates ({exc})"
        raise UsageError(f"--ca-bundle {path}: {why}") from None
    return str(path)


def tls_verify(ca_bundle: str | None) -> ssl.SSLContext:
    """What httpx verifies TLS with: the CA certificates of `ca_bundle`, else certifi's (as
    httpx's default). One context per bundle for the process, shared by every client: a run
    builds a client per worker thread, and loading the certificates costs tens of ms each."""
    return _ssl_context(ca_bundle or None)


@functools.lru_cache(maxsize=8)
def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=ca_bundle or certifi.where())


def _price_table(path: Any) -> PriceTable | None:
    if not path:
        return None
    from conformance.plan.prices import load_price_table

    return load_price_table(Path(path))
