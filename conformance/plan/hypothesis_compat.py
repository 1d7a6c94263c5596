"""The one place the suite reaches into hypothesis's internals, and why.

Since 6.131 hypothesis mixes constants it harvests from *local* modules (every loaded module
outside site-packages, this package's own when installed editable) into the values it draws.
Which modules are loaded differs between entry points (CLI, dry run, pytest plugin) and
installs, so with them a seed would not name one plan. Hypothesis offers no public setting to
turn this off; `only_builtin_constants()` swaps the harvester for an empty one while the plan
draws. `tests/test_hypothesis_compat.py` fails loudly when hypothesis changes these names, so
an upgrade cannot silently break reproducible seeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

PROVIDERS_MODULE = "hypothesis.internal.conjecture.providers"
HARVESTER = "_get_local_constants"
CACHE = "CONSTANTS_CACHE"


@contextmanager
def only_builtin_constants() -> Iterator[None]:
    """While active, hypothesis draws only its built-in constants, never local ones."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    # Swapped by hand: unittest.mock would import asyncio (~30 ms) on every run's plan.
    harvester = getattr(providers, HARVESTER)
    getattr(providers, CACHE).cache.clear()
    setattr(providers, HARVESTER, Constants)
    try:
        yield
    finally:
        setattr(providers, HARVESTER, harvester)
        getattr(providers, CACHE).cache.clear()
