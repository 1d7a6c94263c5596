"""Shared fixtures: the spec, and the reference gateway on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.spec import Spec, load_spec


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="session")
def gateway_url(spec: Spec) -> Iterator[str]:
    """The clean reference gateway, shared by the tests of a session (worker)."""
    from conformance.targets.server import running_gateway

    with running_gateway(spec) as url:
        yield url
