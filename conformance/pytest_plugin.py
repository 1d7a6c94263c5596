"""The check catalogue as pytest items: `pytest --gateway-url URL`."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "gateway conformance")
    group.addoption("--gateway-url", default=None, help="base URL of the gateway under test")
