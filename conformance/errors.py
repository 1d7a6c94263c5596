"""One exception hierarchy for everything the suite reports to its user, with exit codes.

The CLI maps any `ConformanceError` to its `exit_code` in one place; whatever a gateway sends
never raises one of these (it becomes a check result), so they describe the user's input or
environment: a bad flag, spec, baseline or results file, an unwritable report directory, an
unreachable target.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """The exit codes of `conformance`: a stable contract for CI jobs."""

    OK = 0
    """The gate passed."""
    FAILED = 1
    """The gate failed: failures found, or a crashed check."""
    USAGE = 2
    """Usage, configuration or spec error; or a run that could judge nothing."""
    UNREACHABLE = 3
    """The target could not be reached."""
    INCOMPLETE = 4
    """No failure found, but a MUST check in scope was not judged (a cap, a deadline, a budget,
    a stop signal, a transport error on the suite's side): not a pass."""


class ConformanceError(Exception):
    """Base of every error the suite reports as one line and an exit code."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(ConformanceError):
    """A flag, option or configuration value that cannot be used."""


class SpecError(ConformanceError):
    """The OpenAPI document cannot be read, parsed, validated or has no image operation."""


class BaselineError(ConformanceError):
    """A baseline file that cannot be read or is malformed."""


class ResultsError(ConformanceError):
    """A saved results.json that cannot be read back."""


class ReportDirError(ConformanceError):
    """The report directory cannot be written."""


class TargetUnreachable(ConformanceError):
    """Nothing answers at the target's address."""

    exit_code = ExitCode.UNREACHABLE
