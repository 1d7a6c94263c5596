"""One story per run: terminal, report.html, junit.xml, results.json, summary.md and the exit
code say the same thing, in standard, --strict and baseline modes (end to end through the CLI)."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance import cli
from conformance.report.jsonreport import schema_errors

MUST_FAULT, MUST_CHECK = "one-based-index", "IMG-INDEX"
SHOULD_FAULT, SHOULD_CHECK = "created-missing-for-url", "IMG-CREATED-PRESENT"


@dataclass
class Outputs:
    code: int
    stdout: str
    results: dict
    junit: ET.Element
    html: str
    summary: str

    def testcase(self, check_id: str) -> ET.Element:
        for case in self.junit.iter("testcase"):
            if case.get("name", "").startswith(check_id + " "):
                return case
        raise AssertionError(f"no testcase for {check_id}")


def run_cli(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> Outputs:
    code = cli.main(["run", "--max-examples", "2", "--report-dir", str(out), *args])
    stdout = capsys.readouterr().out
    return Outputs(
        code=code,
        stdout=stdout,
        results=json.loads((out / "results.json").read_text()),
        junit=ET.parse(out / "junit.xml").getroot(),
        html=(out / "report.html").read_text(),
        summary=(out / "summary.md").read_text(),
    )


CLIENT_SIDE = "client side; 10 two-sided MUST checks (and 3 below MUST) not run: add --upstream"
"""The scope of a run whose embedded gateway draws a fault itself (no upstream)."""


def assert_one_story(o: Outputs, headline: str, code: int) -> None:
    """Every output names `headline` and `code`, and nothing else."""
    assert o.code == code, o.stdout
    assert headline in o.stdout.splitlines(), o.stdout
    gate = o.results["gate"]
    assert gate["headline"] == headline and gate["exit_code"] == code
    assert o.results["verdict"] == gate["verdict"]
    assert schema_errors(o.results) == []
    props = {p.get("name"): p.get("value") for p in o.junit.iter("property")}
    assert props["gate"] == headline and props["exit_code"] == str(code)
    banner = re.search(r'<p id="gate-headline">(.*?)</p>', o.html, re.S)
    assert banner and f"Gate:</strong> {headline} · exit code" in html.unescape(banner.group(1))
    assert re.search(r'id="verdict-label">([^<]*)<', o.html).group(1) == gate["verdict"]  # type: ignore[union-attr]
    assert o.summary.splitlines()[0] == f"## Gateway conformance: {headline}"
    # The estimated cost is the same sentence on the terminal and in summary.md.
    total = o.results["coverage"]["cost_estimate"]["total"]
    cost = next(line for line in o.stdout.splitlines() if line.startswith("budget "))
    assert f"about {total:.2f} USD" in cost
    assert cost[0].upper() + cost[1:] in o.summary.splitlines()
    # CI panels agree with the exit code: a <failure> exactly when the gate fails on it.
    failures = [c for c in o.junit.iter("testcase") if c.find("failure") is not None]
    assert bool(failures) == (code == 1)


def test_must_failure_fails_everywhere(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    o = run_cli(capsys, tmp_path, "--fault", MUST_FAULT)
    assert_one_story(o, f"NOT CONFORMANT (1 MUST; {CLIENT_SIDE})", 1)
    assert o.testcase(MUST_CHECK).find("failure") is not None
    assert f"| `{MUST_CHECK}` | MUST | fails the gate |" in o.summary
    assert o.results["gate"]["dispositions"][MUST_CHECK] == "fails-gate"
    # The terminal shows the first failure's curl line under the failing check.
    lines = o.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{MUST_CHECK}:"))
    assert lines[at + 1].strip().startswith("curl ")


def test_should_failure_warns_in_standard_mode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    o = run_cli(capsys, tmp_path, "--fault", SHOULD_FAULT)
    assert_one_story(o, f"CONFORMANT WITH WARNINGS (1 SHOULD; {CLIENT_SIDE})", 0)
    skipped = o.testcase(SHOULD_CHECK).find("skipped")
    assert skipped is not None and "warning" in (skipped.get("message") or "")
    assert f"| `{SHOULD_CHECK}` | SHOULD | warning |" in o.summary
    assert 'data-gate="warning"' in o.html


def test_strict_turns_the_should_failure_into_a_gate_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    o = run_cli(capsys, tmp_path, "--fault", SHOULD_FAULT, "--strict")
    assert_one_story(o, f"NOT CONFORMANT (1 SHOULD; {CLIENT_SIDE})", 1)
    assert o.testcase(SHOULD_CHECK).find("failure") is not None
    assert o.results["strict"] is True


def test_baseline_known_and_stale_entries_are_shown_everywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        f'[[known_failure]]\ncheck_id = "{MUST_CHECK}"\nreason = "ticket 7"\n'
        "expires = 2999-01-01\n"
        '[[known_failure]]\ncheck_id = "IMG-COUNT"\nreason = "fixed since"\n'
    )
    o = run_cli(capsys, tmp_path / "out", "--fault", MUST_FAULT, "--baseline", str(baseline))
    assert_one_story(o, f"CONFORMANT (1 known failure, see baseline; {CLIENT_SIDE})", 0)
    assert o.results["baseline"]["path"] == str(baseline)
    assert o.results["gate"]["known"] == [
        {"check_id": MUST_CHECK, "reason": "ticket 7", "expires": "2999-01-01"}
    ]
    assert [e["check_id"] for e in o.results["gate"]["stale"]] == ["IMG-COUNT"]
    skipped = o.testcase(MUST_CHECK).find("skipped")
    assert skipped is not None and "ticket 7" in (skipped.get("message") or "")
    assert str(baseline) in o.html and "known (baseline): ticket 7, until 2999-01-01" in o.html
    assert 'class="baseline-stale"' in o.html
    assert f"Baseline `{baseline}`" in o.summary
    assert f"known failure `{MUST_CHECK}`: ticket 7 (until 2999-01-01)" in o.summary
    assert "stale entry `IMG-COUNT`" in o.summary


def test_expired_entry_fails_everywhere(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        f'[[known_failure]]\ncheck_id = "{MUST_CHECK}"\nreason = "x"\nexpires = 2000-01-01\n'
    )
    o = run_cli(capsys, tmp_path / "out", "--fault", MUST_FAULT, "--baseline", str(baseline))
    assert_one_story(o, f"NOT CONFORMANT (1 MUST; 1 expired baseline entry; {CLIENT_SIDE})", 1)
    assert [e["check_id"] for e in o.results["gate"]["expired"]] == [MUST_CHECK]
    assert 'class="baseline-expired"' in o.html
    assert f"expired entry `{MUST_CHECK}` (2000-01-01): fails the gate" in o.summary
