"""What an image costs, as far as a plan's choices go: the cheapest size and quality, and a
cost per field value that lets the covering arrays prefer cheap values where coverage allows.

Counts (`n`) cost their value; sizes and qualities their price in the price table for the run's
model (values it does not price come after, smaller sizes first, else in listed order). Every
other field costs nothing, so only these three ever steer a choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from conformance.plan.domains import ABSENT, COUNT_FIELD, field_values
from conformance.plan.prices import QUALITY_FIELD, SIZE_FIELD, PriceTable
from conformance.spec import Operation

FORMAT_FIELD: Final = "response_format"
URL_FORMAT: Final = "url"
URL_FETCH_COST: Final = 0.0001
"""An image answered as a URL costs one more request (the fetch), nothing at the provider."""
_SIZE: Final = re.compile(r"^(\d+)x(\d+)$")


class ImageCost:
    """Relative cost of field values for one operation, model and price table."""

    def __init__(self, op: Operation, model: str, table: PriceTable) -> None:
        self.op = op
        self.model = model
        self.table = table
        self._ranks = {
            SIZE_FIELD: self._ranks_of(SIZE_FIELD, lambda v: table.price(model, v, None)),
            QUALITY_FIELD: self._ranks_of(QUALITY_FIELD, lambda v: table.price(model, None, v)),
        }

    def __call__(self, name: str, value: Any) -> float:
        if name == COUNT_FIELD:
            unset = value is ABSENT or value is None  # a null count asks for the default
            count = self.op.default(COUNT_FIELD, 1) if unset else value
            return float(count if isinstance(count, (int, float)) else 1)
        if name == FORMAT_FIELD:
            sent = self.op.default(FORMAT_FIELD) if value is ABSENT else value
            return URL_FETCH_COST if sent == URL_FORMAT else 0.0
        ranks = self._ranks.get(name)
        if not ranks:
            return 0.0
        return ranks.get(repr(ABSENT) if value is ABSENT else str(value), max(ranks.values()))

    def cheapest(self) -> dict[str, Any]:
        """The cheapest listed size and quality, for cases that vary neither."""
        chosen: dict[str, Any] = {}
        for name in (SIZE_FIELD, QUALITY_FIELD):
            if name not in self.op.properties:
                continue
            values = [v for v in field_values(name, self.op.field_schema(name)) if v is not None]
            if not values:
                continue
            chosen[name] = min(values, key=partial(self._order, name, values))
        return chosen

    def _order(self, name: str, values: list[Any], value: Any) -> tuple[float, int]:
        return self(name, value), values.index(value)

    def _ranks_of(self, name: str, price: Callable[[Any], float | None]) -> dict[str, float]:
        """Each listed value's price for the model (a field left out: the model's default);
        values the table does not price come after the priced ones, smaller sizes first,
        else in listed order."""
        if name not in self.op.properties:
            return {}
        values = field_values(name, self.op.field_schema(name))
        prices = {str(v): price(v) for v in values}
        ceiling = max((p for p in prices.values() if p is not None), default=0.0)
        ranks = {
            key: p if p is not None else ceiling + 1 + _area(key) + i / 1000
            for i, (key, p) in enumerate(prices.items())
        }
        absent = price(None)
        ranks[repr(ABSENT)] = absent if absent is not None else ceiling
        return ranks


def _area(size: str) -> float:
    """Megapixels of a `WxH` size; 0 for anything else (`auto`)."""
    if not _SIZE.match(size):
        return 0.0
    width, height = (int(part) for part in size.split("x"))
    return width * height / 1_000_000
