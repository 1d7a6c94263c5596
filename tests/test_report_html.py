"""report.html: verdict, matrix order, failure evidence, escaping, coverage, atomic writes."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_samples import SCRIPT, sample_result

from conformance.model import Status
from conformance.report import REPORT_FILES, write_reports
from conformance.report.html import (
    MAX_EXAMPLES,
    cell_text,
    coverage_sections,
    prepare,
    render_html,
    shape_cards,
)
from conformance.report.shapes import shape_of


class _Collect(HTMLParser):
    """Start tags with their attributes, and every <script> body."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def test_verdict_and_run_metadata_are_on_top() -> None:
    result = sample_result(incomplete=True)
    html = render_html(result)
    assert re.search(r'id="verdict-label">NOT CONFORMANT<', html)
    assert 'id="incomplete"' in html and "run deadline of 5s reached" in html
    for text in (result.target, result.spec_sha256, result.spec_title, "0.1.0", ">42<", ">17<"):
        assert text in html
    assert ">23<" in html  # images requested
    assert "3.2 s" in html or "3.3 s" in html


def test_incomplete_marker_only_when_incomplete() -> None:
    assert 'id="incomplete"' not in render_html(sample_result())


@pytest.mark.parametrize(
    ("must_fails", "verdict"),
    [(True, "NOT CONFORMANT"), (False, "CONFORMANT WITH WARNINGS")],
)
def test_verdict_attribute(must_fails: bool, verdict: str) -> None:
    tags = parse(render_html(sample_result(must_fails=must_fails))).tags
    section = next(attrs for tag, attrs in tags if attrs.get("id") == "verdict")
    assert section["data-verdict"] == verdict


def test_matrix_lists_every_check_failing_rows_first() -> None:
    result = sample_result()
    tags = parse(render_html(result)).tags
    rows = [attrs for tag, attrs in tags if tag == "tr" and "data-check-id" in attrs]
    assert {r["data-check-id"] for r in rows} == {c.check_id for c in result.checks}
    statuses = [r["data-status"] for r in rows]
    assert statuses[:2] == ["failed", "failed"]
    assert [r["data-check-id"] for r in rows[:2]] == ["IMG-COUNT", "IMG-CREATED-PRESENT"]
    assert statuses.index("error") < statuses.index("passed") < statuses.index("skipped")
    assert all(r["data-level"] in {"MUST", "SHOULD", "MAY"} for r in rows)


def test_failures_carry_their_evidence() -> None:
    result = sample_result()
    html = render_html(result)
    failure = next(c for c in result.checks if c.check_id == "IMG-COUNT").failures[0]
    section = html[html.index('id="failures-IMG-COUNT"') :]
    assert failure.message in section
    assert "2 images" in section and "1 image" in section
    assert "curl -X POST http://127.0.0.1:9/x" in section
    assert '"prompt": "a cat"' in section.replace("&#34;", '"')
    assert f'src="data:image/png;base64,{failure.thumbnail}"' in section
    assert "image_generation.completed" in section and "41.2" in section


def test_gateway_text_is_escaped_and_only_our_script_is_present() -> None:
    html = render_html(sample_result())
    assert SCRIPT not in html
    assert "&lt;script&gt;document.title=" in html
    parsed = parse(html)
    assert len(parsed.scripts) == 1
    assert "pwned" not in parsed.scripts[0]
    csp = next(a for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in (csp["content"] or "")
    assert "script-src 'sha256-" in (csp["content"] or "")


def test_a_thumbnail_that_is_not_base64_is_dropped() -> None:
    result = sample_result()
    failure = next(c for c in result.checks if c.check_id == "IMG-COUNT").failures[0]
    failure.thumbnail = 'x" onerror="alert(1)'
    html = render_html(result)
    assert "onerror" not in html and "<img" not in html


def test_environment_problems_are_listed_apart() -> None:
    tags = parse(render_html(sample_result())).tags
    assert any(a.get("id") == "environment" for _, a in tags)
    problems = [a for _, a in tags if a.get("class") == "environment-problem"]
    assert [p["data-http-status"] for p in problems] == ["429"]


def test_coverage_is_rendered_whatever_its_shape() -> None:
    coverage = {
        "fields": {"n": {"values": [1, 10], "missing": []}, "size": {"values": ["auto"]}},
        "pairs": {"n x size": 3},
        "cut": ["n=10"],
    }
    sections = {s.title: s for s in coverage_sections(coverage)}
    assert sections["fields"].columns == ["values", "missing"]
    assert sections["fields"].rows == [("n", ["1, 10", "—"]), ("size", ["auto", "—"])]
    assert sections["pairs"].rows == [("n x size", ["3"])]
    assert sections["cut"].text == "n=10"
    assert cell_text([["url", True]]) == "(url, true)"
    html = render_html(sample_result())
    assert 'data-coverage="pairs"' in html and "size x quality" in html


def test_no_failures_message_when_everything_passes() -> None:
    result = sample_result(must_fails=False)
    result.checks = [c for c in result.checks if c.status == Status.PASSED.value]
    html = render_html(result)
    assert 'id="no-failures"' in html and 'id="verdict-label">CONFORMANT<' in html


def test_write_reports_writes_all_three_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = write_reports(sample_result(), out)
    assert {p.name for p in paths.values()} == set(REPORT_FILES.values())
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES.values())  # no temp left
    assert paths["html"].read_text("utf-8").startswith("<!DOCTYPE html>")
    first = paths["json"].stat().st_ino
    write_reports(sample_result(must_fails=False), out)
    assert paths["json"].stat().st_ino != first  # replaced, not rewritten in place
    assert "CONFORMANT WITH WARNINGS" in paths["html"].read_text("utf-8")


@pytest.mark.parametrize(
    ("message", "shape"),
    [
        ("expected 2 images, got 1", "expected N images, got N"),
        ("data[3].b64_json: 1792x1024 image", "data[N].b64_json: WxH image"),
        ("field 'size' is 'foo'", "field '…' is '…'"),
        ("http://127.0.0.1:9/x answered 500 in 2.5 s", "URL answered N in N s"),
        ("digest deadbeef0123 differs", "digest # differs"),
    ],
)
def test_a_failures_shape_masks_its_values(message: str, shape: str) -> None:
    assert shape_of(message) == shape


def test_failures_of_one_shape_share_one_card_with_a_count_and_a_few_examples() -> None:
    result = sample_result()
    count = next(c for c in result.checks if c.check_id == "IMG-COUNT")
    template = count.failures[0]
    count.failures = [
        replace(template, case_id=f"c{i}", message=f"expected {i + 2} images, got 1")
        for i in range(7)
    ] + [replace(template, case_id="odd", message="data[0] is empty")]
    (cards,) = [cards for check, cards in shape_cards([count])]
    assert [(c.shape, c.count, len(c.examples)) for c in cards] == [
        ("expected N images, got N", 7, MAX_EXAMPLES),
        ("data[N] is empty", 1, 1),
    ]
    assert cards[0].hidden == 7 - MAX_EXAMPLES
    html = render_html(result)
    assert html.count('class="shape"') == html.count('<details class="shape"') >= 2
    assert "7&times;" in html and "4 more of this shape in results.json" in html
    top = html[: html.index('id="requirements"')]
    for check in result.failing():
        assert f'href="#failures-{check.check_id}"' in top and check.level in top


def test_prepare_compiles_the_template_the_report_then_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from conformance.report import html

    html._environment.cache_clear()  # a fresh environment: nothing compiled yet
    prepare()
    environment = html._environment()

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(environment, "compile", no_compiling)
    paths = write_reports(sample_result(), tmp_path)
    assert "<html" in paths["html"].read_text(encoding="utf-8")
