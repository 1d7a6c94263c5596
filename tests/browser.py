"""Headless Chromium for tests that look at a rendered report."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = "headless Chromium is not installed (make test installs Debian's chromium)"
BROWSER_TIMEOUT_S = 90
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile and the given arguments."""
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
        check=False,
    )


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM of `page` (opened from disk) after its scripts had time to run."""
    done = chromium(profile, "--virtual-time-budget=2000", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


LAYOUT_SCRIPT = """
(function () {
  function box(node) {
    var r = node.getBoundingClientRect();
    return {top: Math.round(r.top + window.scrollY), bottom: Math.round(r.bottom + window.scrollY)};
  }
  var found = {viewport: window.innerHeight, width: window.innerWidth};
  Array.prototype.slice.call(document.querySelectorAll("[data-measure]")).forEach(function (n) {
    found[n.getAttribute("data-measure")] = box(n);
  });
  found.cards = Array.prototype.slice.call(document.querySelectorAll("details.shape")).map(
    function (n) { var b = box(n); b.open = n.open; return b; });
  found.shown = Array.prototype.slice.call(document.querySelectorAll(
    "#failures .check-failures, #matrix tbody tr, #failing-checks a")).filter(
    function (n) { return !n.hidden; }).map(
    function (n) { return n.tagName + " " + n.getAttribute("data-check-id"); });
  document.body.setAttribute("data-layout", JSON.stringify(found));
})();
"""


def layout(
    page: Path, profile: Path, measured: dict[str, str], size: str, before: str = ""
) -> dict[str, Any]:
    """Where the page lays out: the boxes of `measured` (name -> CSS selector) and of every
    shape card, and what is shown (after the script `before`, e.g. a filter chosen), in a real
    browser window of `size` ("W,H"). The page's own CSP admits one more script, this
    measuring one, in a copy of the page."""
    html = page.read_text("utf-8")
    marks = "".join(
        f"document.querySelector({json.dumps(sel)}).setAttribute('data-measure', {json.dumps(n)});"
        for n, sel in measured.items()
    )
    script = before + marks + LAYOUT_SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    html = html.replace("</body>", f"<script>{script}</script></body>")
    copy = page.with_name("measured.html")
    copy.write_text(html, "utf-8")
    done = chromium(
        profile, "--virtual-time-budget=2000", f"--window-size={size}", "--dump-dom", copy.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-layout="([^"]*)"', done.stdout)
    assert found, "the measuring script did not run"
    data: dict[str, Any] = json.loads(unescape(found.group(1)))
    return data
