"""The fake upstream: an imitation of the provider APIs a gateway calls (Azure OpenAI and
OpenAI image generation), recording every request and failing on demand.

`conformance upstream` serves it; `running_upstream(...)` serves it in a thread for tests and
for the embedded pair of `conformance run`. See docs/upstream.md for its CLI and endpoints.
"""

from conformance.targets.upstream.app import UpstreamSettings, create_upstream_app
from conformance.targets.upstream.markers import Marker, marker, parse_markers
from conformance.targets.upstream.server import running_upstream, serve_upstream

__all__ = [
    "Marker",
    "UpstreamSettings",
    "create_upstream_app",
    "marker",
    "parse_markers",
    "running_upstream",
    "serve_upstream",
]
