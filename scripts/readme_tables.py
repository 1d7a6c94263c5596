"""The README's numbers, from the code: `make docs` rewrites them, `tests/test_readme.py` fails
when they drift.

Each generated block sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; the
rest of the README is left alone. The numbers are the dry run's (`conformance run --dry-run`)
for the embedded pair with the `sdk` extra installed, which a run against a conforming gateway
sends exactly (`tests/test_first_hour.py` holds a run to it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def budget_table() -> str:
    """requests, images and money per `--budget` preset (default model and price table)."""
    from conformance.config import run_config
    from conformance.plan.presets import PRESETS
    from conformance.run import dry_run_summary

    head = (
        "| budget | requests: plan (all) | paid images (plan + SDK) | images in all "
        "| estimated cost | enum/bool/count values | value pairs | negative rules "
        "| random bodies |\n|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for name in PRESETS:
        s = dry_run_summary(run_config({"budget": name}))
        images, cost, reach = s["images_by_source"], s["cost_estimate"], s["coverage"]
        assert isinstance(images, dict) and isinstance(cost, dict) and isinstance(reach, dict)
        label = f"`{name}` (default)" if name == "standard" else f"`{name}`"
        paid = f"{s['images_requested']} ({images['plan']} + {images['sdk_probe']})"
        everything = int(str(s["images_requested"])) + images["two_sided_at_fake_upstream"]
        money = f"${cost['total']:.2f}"
        if cost.get("images_unpriced") and cost.get("upper_bound") is not None:
            money += f" (at most ${cost['upper_bound']:.2f})"
        cells = [
            label,
            f"{s['requests']} ({s['requests_estimate']})",
            paid,
            str(everything),
            money,
            _ratio(reach["values"]),
            _ratio(reach["pairs"]),
            str(reach["negative_rules"]),
            str(s["random_cases"]),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def two_sided_count() -> str:
    """How many two-sided cases a run against the embedded pair adds."""
    from conformance.config import run_config
    from conformance.run import dry_run_summary

    by_source = dry_run_summary(run_config({"budget": "smoke"}))["requests_by_source"]
    assert isinstance(by_source, dict)
    return str(by_source["two_sided"])


def default_run_line() -> str:
    """What the terminal's summary line of a default run reports."""
    from conformance.config import run_config
    from conformance.run import dry_run_summary

    s = dry_run_summary(run_config({}))
    images = s["images_by_source"]
    assert isinstance(images, dict)
    everything = int(str(s["images_requested"])) + images["two_sided_at_fake_upstream"]
    return f"`{s['requests_estimate']} requests, {everything} images requested`"


def _ratio(reach: dict[str, Any]) -> str:
    return f"{reach['covered']}/{reach['total']}"


BLOCKS: dict[str, Callable[[], str]] = {
    "budget-table": budget_table,
    "two-sided-count": two_sided_count,
    "default-run-line": default_run_line,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->)(.*?)(<!-- end: {re.escape(name)} -->)",
        re.DOTALL,
    )


def blocks_in(text: str) -> dict[str, str]:
    """The generated blocks as they stand in `text` (name -> content)."""
    found = {}
    for name in BLOCKS:
        match = _pattern(name).search(text)
        if match is None:
            raise SystemExit(f"README: no block `{name}` (<!-- generated: {name} -->)")
        found[name] = match.group(2).strip("\n")
    return found


def rendered(text: str) -> str:
    """`text` with every generated block rewritten from the code."""
    blocks_in(text)  # every block must be there
    for name, make in BLOCKS.items():
        newline = "\n\n" if name.endswith("table") else ""
        match = _pattern(name).search(text)
        assert match is not None
        text = text[: match.start(2)] + newline + make() + newline + text[match.end(2) :]
    return text


def main() -> int:
    from conformance.sdk_probe import sdk_installed

    if not sdk_installed():
        print("readme_tables: install the sdk extra first (its probes are in the numbers)")
        return 2
    text = README.read_text("utf-8")
    new = rendered(text)
    if new != text:
        README.write_text(new, "utf-8")
        print(f"{README.name}: numbers rewritten")
    else:
        print(f"{README.name}: numbers up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
