"""Hypothesis internals the plan relies on are still there, and the patch takes effect."""

from __future__ import annotations

import importlib
import sys
import types

from conformance.plan.hypothesis_compat import (
    CACHE,
    HARVESTER,
    PROVIDERS_MODULE,
    only_builtin_constants,
)


def test_the_patched_names_exist() -> None:
    providers = importlib.import_module(PROVIDERS_MODULE)
    assert callable(getattr(providers, HARVESTER)), (
        "hypothesis renamed its local-constant harvester"
    )
    assert hasattr(getattr(providers, CACHE), "cache"), "hypothesis changed its constants cache"
    from hypothesis.internal.constants_ast import Constants

    assert len(Constants()) == 0


def test_local_constants_are_not_harvested_while_patched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    providers = importlib.import_module(PROVIDERS_MODULE)
    source = tmp_path / "local_module_with_constants.py"
    source.write_text("MARKER = 'zq-local-constant-zq'\nNUMBER = 987654321\n")
    module = types.ModuleType("local_module_with_constants")
    module.__file__ = str(source)
    exec(source.read_text(), module.__dict__)
    sys.modules[module.__name__] = module
    try:
        # Unpatched, hypothesis harvests the module: the mechanism we switch off is real.
        assert "zq-local-constant-zq" in getattr(providers, HARVESTER)().strings
        with only_builtin_constants():
            harvested = getattr(providers, HARVESTER)()
            assert "zq-local-constant-zq" not in harvested.strings
            assert 987654321 not in harvested.integers
    finally:
        del sys.modules[module.__name__]
