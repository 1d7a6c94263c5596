"""Case generation: positive, negative and boundary cases derived from the spec.

The names below load on first use, so importing a light submodule (`plan.presets`, e.g. for
the command line's choices) does not pull in the generators.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.plan.build import DEFAULT_MAX_EXAMPLES, Plan, build_plan
    from conformance.plan.case import Case
    from conformance.plan.shrink import MAX_SHRINK_ATTEMPTS, shrink

_WHERE = {
    "DEFAULT_MAX_EXAMPLES": "build",
    "Plan": "build",
    "build_plan": "build",
    "Case": "case",
    "MAX_SHRINK_ATTEMPTS": "shrink",
    "shrink": "shrink",
}

__all__ = ["DEFAULT_MAX_EXAMPLES", "MAX_SHRINK_ATTEMPTS", "Case", "Plan", "build_plan", "shrink"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
