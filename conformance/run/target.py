"""Which gateway a run talks to: the one given (`--base-url`), or the embedded pair.

Without `base_url` the suite serves the reference gateway itself, in front of the fake upstream
(with a client key of its own) unless a fault of another family than `forwarding` is switched
on: those act on the gateway's own answers, so it then draws itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from conformance.config import RunConfig
from conformance.run.plan import watches_upstream

EMBEDDED_CLIENT_KEY = "ck-7f3a9c1e5b2d4a60"
"""The credential the suite presents to the embedded pair (it must not reach the upstream)."""


@contextlib.contextmanager
def target(config: RunConfig) -> Iterator[tuple[str, str | None, RunConfig]]:
    """The gateway's URL, the upstream whose records are read (or None), and the config."""
    if config.base_url:
        yield config.base_url, config.upstream, config
        return
    from conformance.targets.faults import resolve_fault
    from conformance.targets.server import running_gateway
    from conformance.targets.upstream import running_upstream

    fault = resolve_fault(config.fault)
    if not watches_upstream(config):
        with running_gateway(config.spec, fault=fault) as url:
            yield url, None, config
        return
    paired = dataclasses.replace(config, api_key=config.api_key or EMBEDDED_CLIENT_KEY)
    with contextlib.ExitStack() as stack:
        upstream = config.upstream or stack.enter_context(running_upstream(config.spec))
        url = stack.enter_context(running_gateway(config.spec, fault=fault, upstream=upstream))
        yield url, upstream, paired
