"""What an order costs and which orders are refused: pure logic, no services."""

from __future__ import annotations

import pytest
from orders.pricing import DISCOUNT_PERCENT, MAX_LINES, Line, OrderError, parse_lines, total_cents

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="every customer is charged exactly the catalogue price less their plan's "
        "discount, to the cent",
        revenue_impact="a wrong total is either lost margin or a refund and a lost customer",
    ),
]
PRICES = {"tea": 650, "mug": 1200, "kettle": 4900}


@pytest.mark.parametrize(
    ("plan", "expected"),
    [("free", 2500), ("early", 2375), ("mid", 2250), ("enterprise", 2125)],
)
def test_the_plans_discount_is_taken_off_the_gross(plan: str, expected: int) -> None:
    lines = [Line("tea", 2), Line("mug", 1)]  # 2 x 650 + 1200 = 2500 gross
    assert total_cents(lines, PRICES, plan) == expected


def test_a_fraction_of_a_cent_is_rounded_half_up() -> None:
    # 650 x 0.95 = 617.5 -> 618; 1300 x 0.85 = 1105 exactly.
    assert total_cents([Line("tea", 1)], PRICES, "early") == 618
    assert total_cents([Line("tea", 2)], PRICES, "enterprise") == 1105


def test_an_unknown_product_is_named() -> None:
    with pytest.raises(OrderError, match="unknown products: lamp, sofa"):
        total_cents([Line("sofa", 1), Line("tea", 1), Line("lamp", 1)], PRICES, "free")


@pytest.mark.parametrize("plan", sorted(MAX_LINES))
def test_each_plan_caps_the_products_per_order(plan: str) -> None:
    allowed = {f"p{n}": 100 for n in range(MAX_LINES[plan] + 1)}
    lines = [Line(sku, 1) for sku in allowed]
    assert total_cents(lines[:-1], allowed, plan) > 0
    with pytest.raises(OrderError, match=f"the {plan} plan allows {MAX_LINES[plan]} products"):
        total_cents(lines, allowed, plan)


def test_an_unknown_plan_is_refused() -> None:
    assert "platinum" not in DISCOUNT_PERCENT
    with pytest.raises(OrderError, match="unknown plan 'platinum'"):
        total_cents([Line("tea", 1)], PRICES, "platinum")


def test_items_are_parsed_in_order() -> None:
    body = {"items": [{"sku": "mug", "quantity": 3}, {"sku": "tea", "quantity": 1}]}
    assert parse_lines(body) == [Line("mug", 3), Line("tea", 1)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "items: expected a non-empty list"),
        ({"items": []}, "items: expected a non-empty list"),
        ({"items": [{"quantity": 1}]}, r"items\[0\].sku"),
        ({"items": [{"sku": "tea", "quantity": "2"}]}, r"items\[0\].quantity: expected an integer"),
        (
            {"items": [{"sku": "tea", "quantity": True}]},
            r"items\[0\].quantity: expected an integer",
        ),
        ({"items": [{"sku": "tea", "quantity": 0}]}, r"items\[0\].quantity: expected 1 to 100"),
        ({"items": [{"sku": "tea", "quantity": 101}]}, r"items\[0\].quantity: expected 1 to 100"),
        (
            {"items": [{"sku": "tea", "quantity": 1}, {"sku": "tea", "quantity": 2}]},
            r"items\[1\].sku: 'tea' appears twice",
        ),
    ],
)
def test_a_malformed_body_says_what_is_wrong(body: object, message: str) -> None:
    with pytest.raises(OrderError, match=message):
        parse_lines(body)
