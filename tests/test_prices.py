"""Price tables: the shipped list prices, user tables (TOML, YAML), and the estimate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.plan import build_plan
from conformance.plan.prices import PriceTableError, estimate, load_price_table
from conformance.spec import Spec


def test_default_table_holds_the_published_list_prices() -> None:
    table = load_price_table()
    assert table.source == "OpenAI public list prices, as published 2025"
    assert table.price("dall-e-3", "1024x1024", "standard") == 0.040
    assert table.price("dall-e-3", "1792x1024", "hd") == 0.120
    assert table.price("dall-e-2", "256x256", None) == 0.016
    assert table.price("gpt-image-1", "1536x1024", "medium") == 0.063
    assert table.price("gpt-image-1", "1024x1024", "high") == 0.167
    # Left out or `auto`: the model's default size and quality.
    assert table.price("dall-e-3", None, None) == table.price("dall-e-3", "auto", "standard")
    assert table.price("dall-e-3", "256x256", "standard") is None
    assert table.price("no-such-model", "1024x1024", "standard") is None


def test_estimate_counts_unpriced_images_apart(spec: Spec) -> None:
    op = spec.operation
    plan = build_plan(op, budget_name="smoke")
    cost = estimate(plan.cases, op, "dall-e-3", load_price_table())
    wanted = sum(c.images_requested(op) for c in plan.cases)
    assert cost["images_priced"] + cost["images_unpriced"] == wanted
    assert cost["images_unpriced"] == sum(cost["unpriced"].values()) > 0
    assert cost["upper_bound"] >= cost["total"] + 0.12 * cost["images_unpriced"] - 1e-9


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_user_table_replaces_the_default(spec: Spec, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"prices{suffix}"
    if suffix == ".toml":
        path.write_text(
            'source = "contract"\ncurrency = "EUR"\n[models."dall-e-3"]\n'
            'default_size = "1024x1024"\ndefault_quality = "standard"\n'
            '[models."dall-e-3".prices.standard]\n"1024x1024" = 1.0\n'
        )
    else:
        path.write_text(
            "source: contract\ncurrency: EUR\nmodels:\n  dall-e-3:\n"
            "    default_size: 1024x1024\n    default_quality: standard\n"
            "    prices:\n      standard:\n        1024x1024: 1.0\n"
        )
    table = load_price_table(path)
    assert (table.source, table.currency) == ("contract", "EUR")
    op = spec.operation
    plan = build_plan(op, budget_name="smoke", prices=table)
    cost = plan.cost(table)
    assert cost["currency"] == "EUR" and cost["total"] == float(cost["images_priced"]) > 0


def test_bad_price_table_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text('[models."dall-e-3".prices.standard]\n"1024x1024" = "cheap"\n')
    with pytest.raises(PriceTableError):
        load_price_table(bad)
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--dry-run", "--price-table", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "price table" in done.stderr
