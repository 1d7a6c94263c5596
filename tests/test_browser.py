"""report.html in headless Chromium: the DOM it renders, and a gateway's script never runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import CHROMIUM, SKIP_REASON, chromium
from test_report_samples import sample_result

from conformance.report import write_reports

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
