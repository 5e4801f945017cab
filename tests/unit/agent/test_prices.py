"""The built-in price table and the model-name matcher."""

import pytest

from golden_path.agent.prices import PRICES, ModelClass, find_models

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Every cost figure the agent shows starts from recognising the user's models "
        "and pricing them; a missed or wrong model makes the whole answer wrong.",
        revenue_impact="Wrong spend numbers destroy trust in the product and drive churn across "
        "all tiers.",
    ),
]


def test_the_table_prices_the_well_known_models() -> None:
    expected = {
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "o3-mini",
        "claude-3-5-sonnet",
        "claude-3-5-haiku",
        "claude-3-opus",
        "gemini-1.5-pro",
        "gemini-1.5-flash",
        "llama-3.1-70b",
        "mistral-large",
    }
    assert set(PRICES) == expected
    assert all(PRICES[name].name == name for name in PRICES)


def test_prices_are_positive_and_output_costs_at_least_input() -> None:
    for price in PRICES.values():
        assert price.input_per_mtok > 0
        assert price.output_per_mtok >= price.input_per_mtok


def test_gpt_4o_list_price() -> None:
    price = PRICES["gpt-4o"]
    assert (price.provider, price.input_per_mtok, price.output_per_mtok) == ("openai", 2.5, 10.0)
    assert price.model_class is ModelClass.FLAGSHIP


def test_blended_price_weights_input_and_output() -> None:
    # 0.75 * 2.50 + 0.25 * 10.00
    assert PRICES["gpt-4o"].blended_per_mtok(0.75) == pytest.approx(4.375)
    assert PRICES["gpt-4o"].blended_per_mtok(1.0) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GPT-4o", ["gpt-4o"]),
        ("we use gpt 4o in prod", ["gpt-4o"]),
        ("gpt4o", ["gpt-4o"]),
        ("claude 3.5 sonnet", ["claude-3-5-sonnet"]),
        ("Claude-3.5-Sonnet-20241022", ["claude-3-5-sonnet"]),
        ("claude_3_5_haiku", ["claude-3-5-haiku"]),
        ("Gemini 1.5 Flash", ["gemini-1.5-flash"]),
        ("Llama 3.1 70B", ["llama-3.1-70b"]),
        ("Mistral Large", ["mistral-large"]),
        ("o3 mini", ["o3-mini"]),
        ("gpt-4.1", ["gpt-4.1"]),
    ],
)
def test_name_variants_resolve_to_the_canonical_name(text: str, expected: list[str]) -> None:
    assert find_models(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpt-4o-mini", ["gpt-4o-mini"]),
        ("GPT 4o mini", ["gpt-4o-mini"]),
        ("gpt-4.1-mini", ["gpt-4.1-mini"]),
        ("gpt-4o-mini and gpt-4o", ["gpt-4o-mini", "gpt-4o"]),
    ],
)
def test_the_longest_name_wins(text: str, expected: list[str]) -> None:
    assert find_models(text) == expected


def test_order_of_first_appearance_without_duplicates() -> None:
    text = "claude 3 opus, then GPT-4o, then claude-3-opus again and gpt 4o"
    assert find_models(text) == ["claude-3-opus", "gpt-4o"]


@pytest.mark.parametrize(
    "text",
    ["", "hello there", "gpt-4oz", "xgpt-4o", "gpt-4.15", "claude", "gemini 2.0 pro"],
)
def test_no_model_is_invented(text: str) -> None:
    assert find_models(text) == []
