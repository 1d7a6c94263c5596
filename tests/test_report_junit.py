"""junit.xml: structure checked against the Ant/Jenkins JUnit schema, one testcase per check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from test_report_samples import sample_result

from conformance.report.junit import render_junit, xml_text

INT = re.compile(r"^\d+$")
DECIMAL = re.compile(r"^\d+(\.\d+)?$")
ANT_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")

# The element tree of the Ant JUnit XSD (as also read by Jenkins, GitLab and others):
# element -> (required attributes, optional attributes, allowed children).
JUNIT_SCHEMA: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": (
        set(),
        {"name", "tests", "failures", "errors", "skipped", "time"},
        {"testsuite"},
    ),
    "testsuite": (
        {"name", "timestamp", "hostname", "tests", "failures", "errors", "time", "package", "id"},
        {"skipped", "disabled"},
        {"properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), set(), {"property"}),
    "property": ({"name", "value"}, set(), set()),
    "testcase": ({"name", "classname", "time"}, set(), {"failure", "error", "skipped"}),
    "failure": ({"message", "type"}, set(), set()),
    "error": ({"message", "type"}, set(), set()),
    "skipped": (set(), {"message"}, set()),
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}
NUMERIC = {"tests": INT, "failures": INT, "errors": INT, "skipped": INT, "time": DECIMAL}


def schema_problems(element: ET.Element, path: str = "") -> list[str]:
    where = f"{path}/{element.tag}"
    if element.tag not in JUNIT_SCHEMA:
        return [f"{where}: unknown element"]
    required, optional, children = JUNIT_SCHEMA[element.tag]
    problems = [f"{where}: missing @{a}" for a in sorted(required - set(element.attrib))]
    problems += [
        f"{where}: unknown @{a}" for a in sorted(set(element.attrib) - required - optional)
    ]
    problems += [
        f"{where}/@{a}: not a number"
        for a, pattern in NUMERIC.items()
        if a in element.attrib and not pattern.match(element.attrib[a])
    ]
    if element.tag == "testsuite" and not ANT_TIMESTAMP.match(element.get("timestamp", "")):
        problems.append(f"{where}/@timestamp: not an ISO-8601 date-time without zone")
    if element.tag == "testcase" and len(element) > 1:
        problems.append(f"{where}: more than one outcome")
    order = ["properties", "testcase", "system-out", "system-err"]
    tags = [child.tag for child in element if child.tag in order]
    if element.tag == "testsuite" and tags != sorted(tags, key=order.index):
        problems.append(f"{where}: children out of order")
    for child in element:
        if child.tag not in children:
            problems.append(f"{where}: <{child.tag}> not allowed here")
        else:
            problems += schema_problems(child, where)
    return problems


def parse() -> ET.Element:
    return ET.fromstring(render_junit(sample_result()))


def test_junit_follows_the_ant_schema() -> None:
    assert schema_problems(parse()) == []


def test_the_structural_check_can_fail() -> None:
    root = parse()
    suite = root.find("testsuite")
    assert suite is not None
    del suite.attrib["hostname"]
    ET.SubElement(suite, "bogus")
    problems = schema_problems(root)
    assert any("missing @hostname" in p for p in problems)
    assert any("<bogus>" in p or "unknown element" in p for p in problems)


def test_one_testsuite_per_operation_one_testcase_per_check() -> None:
    result = sample_result()
    root = parse()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [result.operation]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [f"{c.check_id} [{c.level}]" for c in result.checks]
    assert [c.get("classname") for c in cases] == [c.family for c in result.checks]
    assert suites[0].get("tests") == str(len(result.checks))
    assert (suites[0].get("failures"), suites[0].get("errors"), suites[0].get("skipped")) == (
        "2",
        "1",
        "1",
    )


def test_outcomes_carry_message_and_curl() -> None:
    cases = {c.get("name"): c for c in parse().iter("testcase")}
    failure = cases["IMG-COUNT [MUST]"].find("failure")
    assert failure is not None
    assert failure.get("type") == "MUST"
    assert failure.get("message") == "IMG-COUNT: expected 2 images, got 1"
    assert "curl -X POST http://127.0.0.1:9/x" in (failure.text or "")
    assert "expected: 2 images" in (failure.text or "")
    assert cases["SSE-SEQUENCE [MUST]"].find("error") is not None
    assert cases["ERR-EMPTY-PROMPT [MAY]"].find("skipped") is not None
    assert len(cases["PROTO-RESPONDS [MUST]"]) == 0


def test_characters_xml_cannot_carry_are_escaped() -> None:
    result = sample_result()
    result.checks[-1].failures[0].message = "bad \x1b[31m byte \x00"
    root = ET.fromstring(render_junit(result))
    assert root is not None
    assert xml_text("a\x00b\tc") == "a\\x00b\tc"
