"""Case generation: positive, negative and boundary cases derived from the spec.

The generators (`build_plan`, `Plan`) load on first use, so importing a light submodule
(`plan.presets`, for the command line's choices) does not pull in hypothesis or schemathesis.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from conformance.plan.shrink import MAX_SHRINK_ATTEMPTS, shrink

if TYPE_CHECKING:
    from conformance.plan.build import DEFAULT_MAX_EXAMPLES, Plan, build_plan

_LAZY = frozenset({"DEFAULT_MAX_EXAMPLES", "Plan", "build_plan"})

__all__ = ["DEFAULT_MAX_EXAMPLES", "MAX_SHRINK_ATTEMPTS", "Plan", "build_plan", "shrink"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.build"), name)
