"""Which checks a run judges and which cases it sends: `--checks`, `--exclude-checks`, `--shard`.

A run limited to some checks sends only the cases one of them can judge (`Check.applies`), so
choosing checks costs fewer requests; the others are left out of every output. A shard takes a
deterministic part of the plan by case id: the same case lands in the same shard in every
process, and the members of a parity group (judged together by a run-scope check) stay together.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conformance.checks.registry import Check
from conformance.errors import UsageError
from conformance.model import PARITY_PREFIX, Case
from conformance.spec import Operation


@dataclass(frozen=True)
class Shard:
    """Part `index` (1-based) of `count` parts of a plan."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, case: Case) -> bool:
        digest = hashlib.sha256(group_key(case).encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    """`"2/3"` -> Shard(2, 3); a usage error for anything else."""
    index, sep, count = str(text).partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        raise UsageError(f"--shard must look like I/N (e.g. 1/3), got {text!r}") from None
    if not sep or shard.count < 1 or not 1 <= shard.index <= shard.count:
        raise UsageError(f"--shard must be I/N with 1 <= I <= N, got {text!r}")
    return shard


def group_key(case: Case) -> str:
    """What decides a case's shard: its parity group when it has one, else its id."""
    return next((t for t in case.tags if t.startswith(PARITY_PREFIX)), case.id)


def check_ids(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """IDs from `--checks A,B --checks C` (or a configuration list), in order, without repeats;
    upper-cased, as every ID of the catalogue is (`--checks img-count` means IMG-COUNT)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    found: list[str] = []
    for value in values:
        for part in str(value).split(","):
            name = part.strip().upper()
            if name and name not in found:
                found.append(name)
    return tuple(found)


def select_checks(
    catalogue: Sequence[Check], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Check]:
    """The checks a run judges: `include` (all when empty) minus `exclude`. An unknown ID is a
    usage error that names the closest known one."""
    known = [c.id for c in catalogue]
    for flag, ids in (("--checks", include), ("--exclude-checks", exclude)):
        for check_id in ids:
            if check_id not in known:
                raise UsageError(unknown_check(flag, check_id, known))
    chosen = [c for c in catalogue if (not include or c.id in include) and c.id not in exclude]
    if not chosen:
        raise UsageError("--checks / --exclude-checks leave no check to run")
    return chosen


def unknown_check(where: str, check_id: str, known: Sequence[str]) -> str:
    """`where: unknown check 'X'; did you mean Y?` for an ID no check of `known` has."""
    close = difflib.get_close_matches(check_id.upper(), list(known), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{where}: unknown check {check_id!r}{hint} (`conformance checks` lists them)"


def judgeable(cases: Sequence[Case], checks: Sequence[Check], op: Operation) -> list[Case]:
    """The cases at least one of `checks` can judge, in plan order."""
    return [case for case in cases if any(c.applies(case, op) for c in checks)]


def not_applicable(checks: Sequence[Check], op: Operation) -> dict[str, str]:
    """Check ID -> why the document declares nothing for it to judge (`Check.undeclared`)."""
    found = {check.id: check.undeclared(op) for check in checks}
    return {check_id: reason for check_id, reason in found.items() if reason}


def in_shard(cases: Sequence[Case], shard: Shard | None) -> list[Case]:
    """The cases of `shard` (all of them without one), in plan order."""
    if shard is None:
        return list(cases)
    return [case for case in cases if shard.holds(case)]
