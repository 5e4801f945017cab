"""What an order costs: pure logic, no services (tests/unit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The discount each plan gets, in percent. The plan arrives in the token's "plan" claim.
DISCOUNT_PERCENT: dict[str, int] = {"free": 0, "early": 5, "mid": 10, "enterprise": 15}
# How many distinct products one order may hold, by plan.
MAX_LINES: dict[str, int] = {"free": 3, "early": 5, "mid": 10, "enterprise": 50}
MAX_QUANTITY = 100


class OrderError(ValueError):
    """The order cannot be placed as asked; the message says why (answered with 422)."""


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


def parse_lines(body: object) -> list[Line]:
    """The ``items`` of a request body, checked: ``[{"sku": str, "quantity": int}, ...]``."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise OrderError("items: expected a non-empty list of {sku, quantity}")
    lines: dict[str, Line] = {}
    for index, item in enumerate(items):
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku:
            raise OrderError(f"items[{index}].sku: expected a product code")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise OrderError(f"items[{index}].quantity: expected an integer")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise OrderError(f"items[{index}].quantity: expected 1 to {MAX_QUANTITY}")
        if sku in lines:
            raise OrderError(f"items[{index}].sku: {sku!r} appears twice")
        lines[sku] = Line(sku, quantity)
    return list(lines.values())


def check_plan(plan: str, lines: Sequence[Line]) -> None:
    if plan not in MAX_LINES:
        raise OrderError(f"unknown plan {plan!r}")
    if len(lines) > MAX_LINES[plan]:
        raise OrderError(f"the {plan} plan allows {MAX_LINES[plan]} products per order")


def total_cents(lines: Sequence[Line], prices: Mapping[str, int], plan: str) -> int:
    """The sum of the lines at ``prices``, less the plan's discount, rounded half up."""
    check_plan(plan, lines)
    missing = sorted(line.sku for line in lines if line.sku not in prices)
    if missing:
        raise OrderError(f"unknown products: {', '.join(missing)}")
    gross = sum(prices[line.sku] * line.quantity for line in lines)
    return (gross * (100 - DISCOUNT_PERCENT[plan]) + 50) // 100
