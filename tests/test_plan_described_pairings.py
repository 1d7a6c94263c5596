"""What a document says in words about fields together is planned by: OpenAI's `background`
says "When using `transparent`, set the output format to `png` or `webp`", so no body sent as
valid asks a JPEG to be transparent (a provider may refuse it; a JPEG cannot hold alpha)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.plan.build import build_plan
from conformance.plan.domains import ABSENT, compatible, transparent_formats
from conformance.spec import Spec, load_spec

OPENAI_31 = (
    Path(__file__).resolve().parent.parent
    / "conformance"
    / "specs"
    / "third_party"
    / "openai"
    / "openapi.yaml"
)


@pytest.fixture(scope="module")
def openai() -> Spec:
    return load_spec(str(OPENAI_31))


def test_the_document_words_are_read(openai: Spec, spec: Spec) -> None:
    assert transparent_formats(openai.operation) == {"png", "webp"}
    assert transparent_formats(spec.operation) is None  # the bundled document says nothing


def test_a_transparent_jpeg_row_is_not_allowed(openai: Spec) -> None:
    allowed = compatible(openai.operation)
    assert not allowed({"background": "transparent", "output_format": "jpeg"})
    assert allowed({"background": "transparent", "output_format": "webp"})
    assert allowed({"background": "transparent", "output_format": ABSENT})
    assert allowed({"background": "opaque", "output_format": "jpeg"})


def test_no_valid_body_asks_a_jpeg_to_be_transparent(openai: Spec) -> None:
    plan = build_plan(openai.operation, budget_name="standard")
    valid = [c.body for c in plan.cases if c.expect == "success" and isinstance(c.body, dict)]
    transparent = [b for b in valid if b.get("background") == "transparent"]
    assert transparent, "the plan still asks for transparency"
    assert [b for b in transparent if b.get("output_format") == "jpeg"] == []
    assert {b.get("output_format") for b in valid if b.get("background") != "transparent"} >= {
        "jpeg"
    }
