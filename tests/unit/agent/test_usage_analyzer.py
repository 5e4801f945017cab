"""The usage analyzer's cost numbers, checked against hand-computed values."""

import math

import pytest

from golden_path.agent.tools import usage_analyzer
from golden_path.agent.workload import Workload

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="free",
        goal="retention",
        value_impact="Usage analysis is the one tool every tier gets; its daily and monthly "
        "figures are the first answer a new user judges the product by.",
        revenue_impact="A correct free answer keeps free users active long enough to convert; a "
        "wrong one loses them before any upgrade prompt.",
    ),
]


def test_one_model() -> None:
    # gpt-4o, 2M tokens/day, 75% input: 1.5M * $2.50 + 0.5M * $10.00 = $8.75/day.
    result = usage_analyzer(Workload(models=("gpt-4o",), tokens_per_day=2_000_000))
    [entry] = result["models"]
    assert entry == {
        "model": "gpt-4o",
        "provider": "openai",
        "model_class": "flagship",
        "input_per_mtok": 2.5,
        "output_per_mtok": 10.0,
        "tokens_per_day": 2_000_000,
        "daily_cost_usd": 8.75,
        "monthly_cost_usd": 262.5,
    }
    assert result["total_daily_cost_usd"] == 8.75
    assert result["total_monthly_cost_usd"] == 262.5
    assert result["missing"] == ["requests_per_day"]


def test_volume_splits_evenly_between_models() -> None:
    # 2M each. claude-3-5-sonnet: 1.5M * $3 + 0.5M * $15 = $12.00/day.
    workload = Workload(models=("gpt-4o", "claude-3-5-sonnet"), tokens_per_day=4_000_000)
    result = usage_analyzer(workload)
    assert [m["tokens_per_day"] for m in result["models"]] == [2_000_000, 2_000_000]
    assert [m["daily_cost_usd"] for m in result["models"]] == [8.75, 12.0]
    assert [m["monthly_cost_usd"] for m in result["models"]] == [262.5, 360.0]
    assert result["total_daily_cost_usd"] == 20.75
    assert result["total_monthly_cost_usd"] == 622.5
    assert result["allocation"] == "even_split"


def test_input_share_changes_the_blend() -> None:
    # gpt-4o-mini, 10M tokens/day, 50% input: 5M * $0.15 + 5M * $0.60 = $3.75/day.
    workload = Workload(models=("gpt-4o-mini",), tokens_per_day=10_000_000, input_share=0.5)
    result = usage_analyzer(workload)
    assert result["total_daily_cost_usd"] == 3.75
    assert result["total_monthly_cost_usd"] == 112.5
    assert result["input_share"] == 0.5


def test_cost_per_thousand_requests() -> None:
    # $8.75/day over 7,000 requests = $1.25 per 1,000.
    workload = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, requests_per_day=7_000)
    result = usage_analyzer(workload)
    assert result["cost_per_1k_requests_usd"] == 1.25
    assert result["missing"] == []


def test_an_empty_workload_names_every_missing_fact() -> None:
    result = usage_analyzer(Workload())
    assert result["missing"] == ["models", "tokens_per_day", "requests_per_day"]
    assert result["models"] == []
    assert result["total_daily_cost_usd"] is None
    assert result["total_monthly_cost_usd"] is None
    assert result["cost_per_1k_requests_usd"] is None


def test_models_without_volume_give_prices_but_no_costs() -> None:
    result = usage_analyzer(Workload(models=("claude-3-5-haiku",)))
    [entry] = result["models"]
    assert (entry["input_per_mtok"], entry["output_per_mtok"]) == (0.8, 4.0)
    assert entry["daily_cost_usd"] is None
    assert result["total_monthly_cost_usd"] is None
    assert result["missing"] == ["tokens_per_day", "requests_per_day"]


def test_volume_without_models_cannot_be_priced() -> None:
    result = usage_analyzer(Workload(tokens_per_day=2_000_000))
    assert result["tokens_per_day"] == 2_000_000
    assert result["total_daily_cost_usd"] is None
    assert result["missing"] == ["models", "requests_per_day"]


def test_unknown_and_repeated_models_are_ignored() -> None:
    workload = Workload(models=("gpt-4o", "made-up", "gpt-4o"), tokens_per_day=2_000_000)
    result = usage_analyzer(workload)
    assert [m["model"] for m in result["models"]] == ["gpt-4o"]
    assert result["total_daily_cost_usd"] == 8.75


@pytest.mark.parametrize(
    ("share", "daily"),
    [
        (math.nan, 8.75),  # falls back to the default 0.75
        (5.0, 5.0),  # clamped to 1.0: 2M input tokens at $2.50/M
        (-1.0, 20.0),  # clamped to 0.0: 2M output tokens at $10.00/M
    ],
)
def test_out_of_range_input_share_is_made_safe(share: float, daily: float) -> None:
    workload = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, input_share=share)
    result = usage_analyzer(workload)
    assert result["total_daily_cost_usd"] == daily
    assert 0.0 <= result["input_share"] <= 1.0


def test_negative_volume_is_treated_as_zero() -> None:
    result = usage_analyzer(Workload(models=("gpt-4o",), tokens_per_day=-5))
    assert result["tokens_per_day"] == 0
    assert result["total_daily_cost_usd"] == 0.0
