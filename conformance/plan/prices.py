"""What the images of a plan would cost at a paid provider: a price table and an estimate.

A table gives, per model, quality and size, the price of one image, plus the model's default
size and quality (what a body that leaves them out is priced at). The default table ships with
the package (`conformance/prices/`); `--price-table FILE` (TOML or YAML, same shape) replaces it.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from conformance.errors import UsageError
from conformance.model import Case
from conformance.spec import Operation

DEFAULT_TABLE: Final = "openai-2025.toml"
SIZE_FIELD: Final = "size"
QUALITY_FIELD: Final = "quality"
AUTO: Final = "auto"


class PriceTableError(UsageError):
    """A price table that cannot be read or has the wrong shape (one line for the user)."""


@dataclass(frozen=True)
class ModelPrices:
    default_size: str | None
    default_quality: str | None
    prices: dict[str, dict[str, float]]  # quality -> size -> price of one image


@dataclass(frozen=True)
class PriceTable:
    source: str
    as_of: str
    currency: str
    models: dict[str, ModelPrices] = field(default_factory=dict)

    def price(self, model: str, size: Any, quality: Any) -> float | None:
        """One image of `model` at `size` and `quality` (None: the table does not say)."""
        entry = self.models.get(model)
        if entry is None:
            return None
        size = entry.default_size if size is None or size == AUTO else size
        quality = entry.default_quality if quality is None else quality
        return entry.prices.get(str(quality), {}).get(str(size))

    def case_price(self, case: Case, op: Operation, model: str) -> float | None:
        """One image of `case` (its size and quality, the model's defaults where absent)."""
        body_model = case.body.get("model", model) if isinstance(case.body, dict) else model
        return self.price(
            str(body_model), case.field(SIZE_FIELD, op), case.field(QUALITY_FIELD, op)
        )


def load_price_table(path: Path | str | None = None) -> PriceTable:
    """The table at `path` (TOML, or YAML by suffix), else the one shipped with the package."""
    if path is None:
        text = resources.files("conformance").joinpath("prices", DEFAULT_TABLE).read_text("utf-8")
        return _table(tomllib.loads(text), DEFAULT_TABLE)
    path = Path(path)
    try:
        text = path.read_text("utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise PriceTableError(f"cannot read price table {path}: {exc}") from exc
    return _table(data, str(path))


def estimate(cases: Iterable[Case], op: Operation, model: str, table: PriceTable) -> dict[str, Any]:
    """The estimated cost of the images `cases` ask for (JSON data for dry run and report).

    Images the table has no price for are counted apart (`images_unpriced`, with their
    model/quality/size), never priced at zero silently; `upper_bound` prices them at the
    model's dearest listed image (None when the table does not know the model).
    """
    entry = table.models.get(model)
    dearest = (
        max((p for sizes in entry.prices.values() for p in sizes.values()), default=None)
        if entry
        else None
    )
    total = 0.0
    priced = 0
    unpriced: Counter[str] = Counter()
    for case in cases:
        images = case.images_requested(op)
        if not images:
            continue
        price = table.case_price(case, op, model)
        if price is None:
            quality, size = case.field(QUALITY_FIELD, op), case.field(SIZE_FIELD, op)
            unpriced[f"{model} {quality or '-'} {size or '-'}"] += images
            continue
        total += price * images
        priced += images
    missing = sum(unpriced.values())
    return {
        "currency": table.currency,
        "total": round(total, 4),
        "upper_bound": None
        if dearest is None and missing
        else round(total + missing * (dearest or 0), 4),
        "images_priced": priced,
        "images_unpriced": missing,
        "unpriced": dict(sorted(unpriced.items())),
        "price_table": {"source": table.source, "as_of": table.as_of},
    }


def _table(data: Any, where: str) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise PriceTableError(f"price table {where}: needs a `models` table")
    models = {}
    for name, entry in data["models"].items():
        prices = entry.get("prices") if isinstance(entry, dict) else None
        if not isinstance(prices, dict) or not all(
            isinstance(sizes, dict) and all(_is_price(v) for v in sizes.values())
            for sizes in prices.values()
        ):
            raise PriceTableError(
                f"price table {where}: models.{name}.prices must map quality -> size -> price"
            )
        models[str(name)] = ModelPrices(
            default_size=_text(entry.get("default_size")),
            default_quality=_text(entry.get("default_quality")),
            prices={
                str(q): {str(s): float(p) for s, p in sizes.items()} for q, sizes in prices.items()
            },
        )
    return PriceTable(
        source=str(data.get("source", where)),
        as_of=str(data.get("as_of", "")),
        currency=str(data.get("currency", "USD")),
        models=models,
    )


def _is_price(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def estimate_line(coverage: dict[str, Any]) -> str:
    """The budget preset and the run's estimated price in one sentence, from the `coverage`
    of results.json (the terminal and summary.md print the same); "" without an estimate."""
    plan, cost = coverage.get("plan") or {}, coverage.get("cost_estimate") or {}
    if not plan.get("budget") or "total" not in cost:
        return ""
    total = f"{cost['total']:.2f} {cost['currency']}"
    line = f"budget {plan['budget']}: the planned images cost about {total} at list prices"
    if cost.get("images_unpriced"):
        bound = cost.get("upper_bound")
        most = f", at most {bound:.2f} in all" if isinstance(bound, (int, float)) else ""
        line += f" ({cost['images_unpriced']} images unpriced{most})"
    return line
