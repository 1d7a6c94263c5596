"""Which gateway a run talks to: the one given (`--base-url`), or the embedded pair.

Without `base_url` the suite serves the reference gateway itself, in front of the fake upstream
(with a client key of its own) unless a fault of another family than `forwarding` is switched
on: those act on the gateway's own answers, so it then draws itself. Both run in processes of
their own, so the suite's checks and the targets do not share one GIL.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

from conformance.config import RunConfig
from conformance.run.plan import watches_upstream

EMBEDDED_CLIENT_KEY = "ck-7f3a9c1e5b2d4a60"
"""The credential the suite presents to the embedded pair (it must not reach the upstream)."""


@contextlib.contextmanager
def target(config: RunConfig) -> Iterator[Served]:
    """The gateway the run talks to, the upstream whose records are read (or None), and the
    config. The embedded targets run in a process of their own (`conformance.targets.child`),
    which starts while the run plans."""
    if config.base_url:
        yield Served(config.base_url, config.upstream, config)
        return
    from conformance.targets.child import running_pair

    paired = watches_upstream(config)
    with running_pair(
        config.spec, config.fault, config.upstream, fake_upstream=paired, stop=config.stop
    ) as pair:
        if paired:
            config = dataclasses.replace(config, api_key=config.api_key or EMBEDDED_CLIENT_KEY)
        yield Served(pair.url, pair.upstream, config, pair.ready)


@dataclasses.dataclass(frozen=True)
class Served:
    """Where a run sends: `base_url`, the `upstream` it watches, its `config`, and `ready()`,
    which returns once the gateway serves (at once for a gateway given by URL)."""

    base_url: str
    upstream: str | None
    config: RunConfig
    ready: Callable[[], None] = lambda: None
