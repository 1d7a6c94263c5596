"""`junit.xml`: one testsuite per operation, one testcase per check (Ant/Jenkins JUnit layout)."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from conformance.gate import Disposition, Gate, decide
from conformance.model import Status
from conformance.redaction import Redactor
from conformance.report.atomic import write_atomic
from conformance.report.text import failure_lines
from conformance.results import CheckResult, RunResult

SUITES_NAME = "gateway-conformance"
MAX_FAILURES_IN_TEXT = 20
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` with the characters XML 1.0 cannot carry shown as `\\xNN` escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def testcase_name(check: CheckResult) -> str:
    return f"{check.check_id} [{check.level}]"


def _timestamp(started_at: str) -> str:
    """ISO-8601 without zone (as the Ant schema's `timestamp` wants), in UTC."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _failure_text(check: CheckResult) -> str:
    lines = [f"{check.statement} ({check.pointer})", *failure_lines(check, MAX_FAILURES_IN_TEXT)]
    return xml_text("\n".join(lines))


def _testcase(suite: ET.Element, check: CheckResult, gate: Gate) -> None:
    """A check as CI panels should show it: `<failure>` only where it fails the gate; a
    warning or a failure the baseline expects as `<skipped>` with the reason (as pytest writes
    an xfail), so the panel agrees with the exit code."""
    case = ET.SubElement(
        suite, "testcase", classname=check.family, name=testcase_name(check), time="0"
    )
    first = xml_text(check.failures[0].message) if check.failures else ""
    disposition = gate.dispositions.get(check.check_id)
    if check.errors:
        element = ET.SubElement(case, "error", message=first, type="CheckError")
        element.text = _failure_text(check)
    elif disposition is Disposition.FAILS_GATE:
        element = ET.SubElement(case, "failure", message=first, type=check.level)
        element.text = _failure_text(check)
    elif disposition is Disposition.KNOWN:
        entry = gate.known_entry(check.check_id)
        why = f"known failure (baseline): {entry.reason if entry else ''}".rstrip(": ")
        element = ET.SubElement(case, "skipped", message=xml_text(f"{why}; {first}"))
        element.text = _failure_text(check)
    elif disposition is Disposition.WARNING:
        message = xml_text(f"{check.level} not met (warning; --strict fails on it): {first}")
        element = ET.SubElement(case, "skipped", message=message)
        element.text = _failure_text(check)
    elif disposition is Disposition.UNJUDGED:
        # Not judged, so not passed: the run is INCOMPLETE (exit 4), and the panel says so.
        why = xml_text(f"not judged: {check.unjudged_reason or 'no case of the run judged it'}")
        ET.SubElement(case, "error", message=why, type="NotJudged").text = why
    elif disposition is Disposition.OUT_OF_SCOPE:
        why = f"{check.left_out_as}: {check.unjudged_reason}"
        ET.SubElement(case, "skipped", message=xml_text(why))
    elif check.status == Status.SKIPPED.value:
        ET.SubElement(case, "skipped", message="not applicable to any exchange of this run")


def junit_tree(result: RunResult) -> ET.ElementTree:
    """The JUnit document of `result`."""
    gate = decide(result)
    kinds = [gate.dispositions.get(c.check_id) for c in result.checks]
    errors = sum(
        1
        for c, k in zip(result.checks, kinds, strict=True)
        if c.errors or k is Disposition.UNJUDGED
    )
    failures = sum(
        1
        for c, k in zip(result.checks, kinds, strict=True)
        if k is Disposition.FAILS_GATE and not c.errors
    )
    totals = {
        "tests": str(len(result.checks)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(len(result.checks) - failures - errors - kinds.count(Disposition.PASSED)),
        "time": f"{result.stats.duration_s:.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITES_NAME, **totals})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(result.operation),
            "package": SUITES_NAME,
            "id": "0",
            "hostname": socket.gethostname() or "localhost",
            "timestamp": _timestamp(result.started_at),
            **totals,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", result.target),
        ("verdict", gate.verdict.value),
        ("gate", gate.headline),
        ("scope", "; ".join(gate.scope.phrases())),
        ("exit_code", str(int(gate.exit_code))),
        ("incomplete", str(result.incomplete).lower()),
        ("seed", str(result.seed)),
        ("spec_title", result.spec_title),
        ("spec_sha256", result.spec_sha256),
        ("suite_version", result.suite_version),
        ("requests", str(result.stats.requests)),
        ("images", str(result.stats.images)),
    ):
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    for check in result.checks:
        _testcase(suite, check, gate)
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(root)
    return ET.ElementTree(root)


def render_junit(result: RunResult) -> bytes:
    root = junit_tree(result).getroot()
    assert root is not None
    buffer: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return buffer


def write_junit(result: RunResult, path: Path, redactor: Redactor | None = None) -> Path:
    text = render_junit(result).decode("utf-8")
    return write_atomic(path, (redactor or Redactor([])).output(text))
