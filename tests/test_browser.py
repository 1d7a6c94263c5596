"""report.html in headless Chromium: the DOM it renders, and a gateway's script never runs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from browser import CHROMIUM, SKIP_REASON, chromium, layout
from test_report_samples import SCRIPT, make_check, sample_result

from conformance.report import write_reports
from conformance.results import RunResult

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "reports" / "test-artifacts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    out = tmp_path_factory.mktemp("report")
    return write_reports(sample_result(incomplete=True), out)["html"]


def test_rendered_dom(report: Path, tmp_path: Path) -> None:
    done = chromium(tmp_path / "profile", "--dump-dom", report.as_uri())
    dom = done.stdout
    assert done.returncode == 0 and "</html>" in dom, done.stderr[-2000:]
    assert 'id="verdict-label">NOT CONFORMANT<' in dom
    assert 'id="incomplete"' in dom
    for check_id in ("IMG-COUNT", "IMG-CREATED-PRESENT", "SSE-SEQUENCE"):
        assert f'id="failures-{check_id}"' in dom
    # The filter script ran (it is the only script allowed to) ...
    assert "5 of 5 checks shown" in dom
    # ... and the gateway's did not: the title is ours and the markup stayed text.
    assert "<title>Conformance report: NOT CONFORMANT" in dom
    assert "pwned</title>" not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<script>document.title" not in dom


def test_screenshot(report: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    done = chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("L").resize((64, 100)).getcolors(maxcolors=64 * 100) or []
        assert len(colours) > 5  # not a blank page


FIFTY = {
    # check -> (level, [(message template, how many)])
    "IMG-COUNT": ("MUST", [("expected {} images, got 1", 15), ("data[{}] has no image", 5)]),
    "SSE-SEQUENCE": ("MUST", [("event {} arrived after completed " + SCRIPT, 12)]),
    "IMG-SIZE": ("MUST", [("data[0]: {}x1024 image, asked for 1024x1024", 6), ("no size", 4)]),
    "PROTO-STATUS-DECLARED": ("SHOULD", [("HTTP {} is not declared", 8)]),
}


def fifty_failures() -> RunResult:
    """50 failures of 4 checks in 6 shapes, as a broken gateway's run would have them."""
    result = sample_result(must_fails=False)
    result.checks = [c for c in result.checks if c.status != "failed"]
    for check_id, (level, kinds) in FIFTY.items():
        check = make_check(check_id, level, "passed")
        for template, count in kinds:
            for i in range(count):
                failure = replace(make_check(check_id, level, "error", failures=1).failures[0])
                failure.message = template.format(i + 2)
                failure.case_id = f"case-{check_id.lower()}-{i}"
                check.record_failure(failure)
        check.settle()
        result.checks.append(check)
    return result


def test_fifty_failures_read_as_one_card_per_shape_on_one_screen(tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    result = fifty_failures()
    assert sum(len(c.failures) for c in result.checks) == 50
    page = write_reports(result, tmp_path / "report")["html"]
    shapes = sum(len(kinds) for _, kinds in FIFTY.values())
    boxes = layout(
        page,
        tmp_path / "profile",
        {"top": "#failing-checks", "failures": "#failures"},
        size="1280,1000",
    )
    cards = boxes["cards"]
    assert len(cards) == shapes == 6
    assert [card["open"] for card in cards] == [True] * 3 + [False] * 3
    # The failing checks, with their levels, are on the first screen ...
    assert boxes["top"]["bottom"] <= boxes["viewport"]
    # ... and every card of the failures fits in one screen from where the section starts.
    assert cards[-1]["bottom"] - boxes["failures"]["top"] <= boxes["viewport"], boxes
    dom = chromium(tmp_path / "profile2", "--dump-dom", page.as_uri()).stdout
    for check_id, (level, _) in FIFTY.items():
        assert re.search(rf'data-check-id="{check_id}" data-level="{level}"', dom)
    assert "<script>document.title" not in dom and "&lt;script&gt;" in dom
    assert dom.count('class="shape-count"') == 6
    assert "15×" in dom or "15&times;" in dom


CHOOSE = """
function choose(id, value) {
  var select = document.getElementById(id);
  select.value = value;
  select.dispatchEvent(new Event("change"));
}
"""


@pytest.mark.parametrize(
    ("choice", "shown"),
    [
        ('choose("filter-check", "IMG-SIZE");', {"IMG-SIZE"}),
        ('choose("filter-level", "SHOULD");', {"PROTO-STATUS-DECLARED"}),
    ],
)
def test_the_failures_filter_by_check_and_level(
    choice: str, shown: set[str], tmp_path: Path
) -> None:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    page = write_reports(fifty_failures(), tmp_path / "report")["html"]
    boxes = layout(page, tmp_path / "profile", {}, size="1280,1000", before=CHOOSE + choice)
    by_kind: dict[str, set[str]] = {}
    for entry in boxes["shown"]:
        kind, check_id = entry.split(" ", 1)
        by_kind.setdefault(kind, set()).add(check_id)
    assert by_kind == {"SECTION": shown, "TR": shown, "A": shown}
