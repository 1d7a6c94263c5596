"""The fault catalogue: realistic gateway defects and benign variations, keyed by ID.

One module per family; each lists its faults in `FAULTS`. `expected_check` names the check
that must flag a defect; benign faults must not be flagged at all.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

from conformance.targets.faults import (
    benign,
    body,
    corners,
    errors,
    forwarding,
    images,
    protocol,
    sse,
)
from conformance.targets.faults.model import NO_FAULT, Fault

FAMILIES: dict[str, ModuleType] = {
    "protocol": protocol,
    "body": body,
    "images": images,
    "sse": sse,
    "errors": errors,
    "corners": corners,
    "forwarding": forwarding,
    "benign": benign,
}


def _catalogue() -> dict[str, Fault]:
    found: dict[str, Fault] = {}
    for family, module in FAMILIES.items():
        for fault in module.FAULTS:
            if fault.id in found:
                raise ValueError(f"duplicate fault id {fault.id}")
            found[fault.id] = fault if fault.family else _in_family(fault, family)
    return found


def _in_family(fault: Fault, family: str) -> Fault:
    return replace(fault, family=family)


FAULTS: dict[str, Fault] = _catalogue()


def resolve_fault(fault: Fault | str | None) -> Fault | None:
    """A fault given as itself, as its ID, or None (`KeyError` names an unknown ID)."""
    if fault is None or isinstance(fault, Fault):
        return fault
    if fault not in FAULTS:
        raise KeyError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
    return FAULTS[fault]


__all__ = ["FAULTS", "NO_FAULT", "Fault", "resolve_fault"]
