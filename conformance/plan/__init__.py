"""Case generation: positive, negative and boundary cases derived from the spec."""

from conformance.plan.build import DEFAULT_MAX_EXAMPLES, Plan, build_plan
from conformance.plan.shrink import MAX_SHRINK_ATTEMPTS, shrink

__all__ = ["DEFAULT_MAX_EXAMPLES", "MAX_SHRINK_ATTEMPTS", "Plan", "build_plan", "shrink"]
