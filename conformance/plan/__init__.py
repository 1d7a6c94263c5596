"""Case generation: positive, negative and boundary cases derived from the spec."""

from conformance.plan.case import Case

__all__ = ["Case"]
