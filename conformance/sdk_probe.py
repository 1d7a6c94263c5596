"""The official `openai` SDK against the target: a few requests through `AzureOpenAI` (or
`OpenAI` for profiles on the OpenAI route), and whether the SDK could use what came back.

The SDK is optional at run time: without it `probe` returns None and says why; SDK-COMPAT is
then not judged. Each outcome carries an `Exchange` (status and headers as the SDK's HTTP client
saw them) so a failure is reported like any other.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Collection
from typing import Any

from conformance.checks.registry import SdkOutcome
from conformance.config import Bounds, Target, tls_verify
from conformance.model import Case, Exchange, SentRequest
from conformance.spec import Operation
from conformance.watchdog import Watchdog

AZURE_MARKER = "/openai/deployments/"
PROBES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("b64_json", {"response_format": "b64_json"}),
    ("url", {"response_format": "url"}),
    ("n-2", {"n": 2, "response_format": "b64_json"}),
    ("stream", {"stream": True}),
)
POLL_S = 0.1
PROMPT = "A lighthouse at dusk, drawn through the official SDK"
DEFAULT_API_VERSION = "2024-02-01"
"""The api-version the SDK is given when the run has none (the AzureOpenAI client needs one)."""


SDK_SUFFIX = "/images/generations"
"""What the SDK's `images.generate` appends to the client's base URL."""


def sdk_installed() -> bool:
    """Whether the optional `openai` package is there to probe with."""
    return importlib.util.find_spec("openai") is not None


def probe_cases(deployment: str, names: Collection[str] | None = None) -> list[Case]:
    """The probes as cases (`names`: those of `PROBES` to send; None: all), in order."""
    return [
        _probe_case(name, {"model": deployment, "prompt": PROMPT, **fields})
        for name, fields in PROBES
        if names is None or name in names
    ]


def probe(
    target: Target,
    op: Operation,
    bounds: Bounds,
    allowed: Callable[[dict[str, Any]], bool],
    names: Collection[str] | None = None,
    stop: threading.Event | None = None,
) -> tuple[list[SdkOutcome] | None, str]:
    """Outcomes of the probes (`names`; None: all) the spec allows (`allowed(body)`), or None
    and the reason. Each probe is cut when `stop` is set (the run's stop signal or deadline:
    then it is not judged) or after the request bound (then the SDK got no usable answer)."""
    try:
        import openai
    except ImportError:
        return None, "the openai SDK is not installed (pip install 'gateway-conformance[sdk]')"
    seen: dict[str, Any] = {}

    cutter = _Cutter(stop or threading.Event(), bounds.first_byte_s + bounds.max_stream_s)

    def note(response: Any) -> None:  # the SDK's own HTTP client's response
        seen.update(status=response.status_code, headers=dict(response.headers))
        cutter.adopt(response)

    http = openai.DefaultHttpxClient(
        timeout=bounds.total_timeout,
        trust_env=False,
        event_hooks={"request": [cutter.request], "response": [note]},
        verify=tls_verify(target.ca_bundle),
    )
    key = target.api_key or "unused"
    api_version = target.api_version or DEFAULT_API_VERSION
    headers = target.extra_headers(target.deployment, api_version)
    base = target.base_url.rstrip("/")
    client: Any
    path = target.path or op.path
    if AZURE_MARKER not in path:
        if not path.endswith(SDK_SUFFIX):
            return None, f"the SDK's images.generate cannot reach {path} (it ends in {SDK_SUFFIX})"
        # A route of another shape (e.g. Azure's `/deployments/{deployment-id}/...` under a
        # server path) is reached as the run's own requests reach it.
        rendered = op.render_path(target.deployment, target.path)
        version = target.api_version if target.send_api_version else None
        client = openai.OpenAI(
            base_url=base + rendered.removesuffix(SDK_SUFFIX),
            api_key=key,
            http_client=http,
            max_retries=0,
            default_headers=headers,
            default_query={"api-version": version} if version else None,
        )
    else:
        prefix = (target.path or op.path).split(AZURE_MARKER)[0]
        client = openai.AzureOpenAI(
            azure_endpoint=base + prefix,
            api_key=key,
            api_version=api_version,
            http_client=http,
            max_retries=0,
            default_headers=headers,
        )
    outcomes: list[SdkOutcome] = []
    with http:
        for case in probe_cases(target.deployment, names):
            if not isinstance(case.body, dict) or not allowed(case.body):
                continue
            seen.clear()
            with cutter:
                error = _attempt(client, case.body)
            if cutter.stopped:
                return outcomes, "stopped: the run was stopped during the SDK's probes"
            if cutter.cut:
                error = f"no complete answer within {cutter.limit_s:g}s ({error})"
            outcomes.append(SdkOutcome(_exchange(case, target, seen), error))
    return outcomes, ""


class _Cutter:
    """Cuts the probe in flight when the run stops or the probe outlasts its bound: the SDK's
    own client has no deadline for a stream that never ends, nor for a status line trickled
    a byte at a time. The bound is a request `Watchdog` (it learns the socket when the
    connection opens, through `trace`, and shuts one it learns late at once); the stop signal
    is polled, as the run's stop is an event."""

    def __init__(self, stop: threading.Event, limit_s: float) -> None:
        self.stop, self.limit_s = stop, limit_s
        self._watchdog: Watchdog | None = None
        self._done = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._watchdog is not None and self._watchdog.aborted

    @property
    def cut(self) -> bool:
        return self._watchdog is not None and self._watchdog.fired

    def request(self, request: Any) -> None:
        """httpx request hook: the connection's socket is learnt as soon as it opens."""
        request.extensions["trace"] = self.trace

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if self._watchdog is not None:
            self._watchdog.trace(event, info)

    def adopt(self, response: Any) -> None:
        if self._watchdog is not None:
            self._watchdog.adopt(response)

    def __enter__(self) -> _Cutter:
        self._done.clear()
        watchdog = self._watchdog = Watchdog(self.limit_s).__enter__()

        def watch() -> None:
            while not self._done.is_set():
                if self.stop.is_set():
                    watchdog.abort()
                    return
                self._done.wait(POLL_S)

        threading.Thread(target=watch, name="conformance-sdk-cut", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._watchdog is not None:
            self._watchdog.__exit__()


def _attempt(client: Any, body: dict[str, Any]) -> str | None:
    """None when the SDK returned what was asked for, else what went wrong."""
    wanted = int(body.get("n", 1))
    try:
        if body.get("stream"):
            kinds = [getattr(event, "type", None) for event in client.images.generate(**body)]
            done = kinds.count("image_generation.completed")
            return None if done == wanted else f"{done} completed events for {wanted} images"
        result = client.images.generate(**body)
    except Exception as exc:  # the point: whatever the SDK raises is the finding
        return f"{exc.__class__.__name__}: {str(exc)[:200]}"
    field = "url" if body.get("response_format") == "url" else "b64_json"
    data = getattr(result, "data", None)
    if not isinstance(data, list) or len(data) != wanted:
        return f"result.data is not a list of {wanted} images"
    missing = [i for i, item in enumerate(data) if not isinstance(getattr(item, field, None), str)]
    return f"result.data[{missing[0]}].{field} is not a string" if missing else None


def _probe_case(name: str, body: dict[str, Any]) -> Case:
    return Case(
        id=f"sdk-{name}",
        kind="positive",
        title=f"openai SDK: {name}",
        expect="success",
        body=body,
        tags=("sdk",),
    )


def _exchange(case: Case, target: Target, seen: dict[str, Any]) -> Exchange:
    request = SentRequest("POST", target.base_url, {}, json.dumps(case.body).encode())
    return Exchange(
        case=case, request=request, status=seen.get("status"), headers=seen.get("headers", {})
    )
