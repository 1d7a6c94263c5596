"""Case generation: positive, negative and boundary cases derived from the spec.

The generators (`build_plan`, `Plan`) load on first use, so importing a light submodule
(`plan.presets`, for the command line's choices) pulls in neither hypothesis, schemathesis nor
the spec loader. The shrinker is `conformance.plan.shrink.shrink`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.plan.build import DEFAULT_MAX_EXAMPLES, Plan, build_plan

_LAZY = frozenset({"DEFAULT_MAX_EXAMPLES", "Plan", "build_plan"})

__all__ = ["DEFAULT_MAX_EXAMPLES", "Plan", "build_plan"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.build"), name)
