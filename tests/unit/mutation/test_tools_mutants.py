"""The tools' output shapes and precision: exact keys, exact rounding, exact notes.

Written from mutation testing (see docs/testing.md): the tool tests elsewhere read a
few keys each, so a renamed key or a changed rounding precision went unnoticed. The
agent serialises these dicts into ``tool_completed`` events, so keys and precision
are part of the protocol the client renders.
"""

from __future__ import annotations

import datetime

import pytest

from golden_path.agent.history import DailyUsage
from golden_path.agent.tools import advanced_analytics, cost_optimizer, usage_analyzer
from golden_path.agent.workload import Workload

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="The client renders tool results by key; a renamed key or a rounding "
        "change shows users blank cells or figures that disagree with their bill.",
        revenue_impact="Spend figures that disagree with the provider's invoice are the fastest "
        "way to lose a customer's trust, and with it the upgrade path.",
    ),
]

# gpt-4o, 2M tokens a day, 75% input: 1.5M x $2.50 + 0.5M x $10.00 = $8.75 a day.
GPT4O_2M = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, requests_per_day=1_000)
START = datetime.date(2026, 11, 1)


def history(costs: list[float], offsets: list[int] | None = None) -> list[DailyUsage]:
    days = offsets if offsets is not None else list(range(len(costs)))
    return [
        DailyUsage(START + datetime.timedelta(days=d), 1, 10, 5, cost)
        for d, cost in zip(days, costs, strict=True)
    ]


# --- usage analyzer


def test_usage_analyzer_output_is_exactly_this() -> None:
    assert usage_analyzer(GPT4O_2M) == {
        "models": [
            {
                "model": "gpt-4o",
                "provider": "openai",
                "model_class": "flagship",
                "input_per_mtok": 2.5,
                "output_per_mtok": 10.0,
                "tokens_per_day": 2_000_000,
                "daily_cost_usd": 8.75,
                "monthly_cost_usd": 262.5,
            }
        ],
        "tokens_per_day": 2_000_000,
        "requests_per_day": 1_000,
        "input_share": 0.75,
        "allocation": "even_split",
        "days_per_month": 30,
        "total_daily_cost_usd": 8.75,
        "total_monthly_cost_usd": 262.5,
        # $8.75 a day over 1,000 requests a day: $8.75 per 1,000 requests.
        "cost_per_1k_requests_usd": 8.75,
        "missing": [],
    }


def test_usage_analyzer_reports_the_input_share_to_four_decimals() -> None:
    workload = Workload(models=("gpt-4o",), input_share=0.123456)
    assert usage_analyzer(workload)["input_share"] == 0.1235


# --- cost optimizer

ASSUMPTIONS = {
    "cacheable_input_share": 0.5,
    "cache_discount": 0.5,
    "output_trim_share": 0.2,
    "batch_threshold_tokens_per_day": 1_000_000,
    "batchable_share": 0.3,
    "batch_discount": 0.5,
}


def test_cost_optimizer_output_is_exactly_this() -> None:
    # Switch to gemini-1.5-pro saves $4.375/day (50%); on it, caching saves
    # 1.875 x 0.5 x 0.5 = $0.46875/day (5.36%), trimming 2.5 x 0.2 = $0.50/day (5.71%),
    # batching (1.40625 + 2.0) x 0.3 x 0.5 = $0.5109375/day (5.84%).
    assert cost_optimizer(GPT4O_2M) == {
        "recommendations": [
            {
                "kind": "switch_model",
                "model": "gpt-4o",
                "to_model": "gemini-1.5-pro",
                "description": "Move gpt-4o traffic to gemini-1.5-pro (google), "
                "a cheaper flagship model.",
                "savings_pct": 50.0,
                "projected_monthly_savings_usd": 131.25,
            },
            {
                "kind": "batching",
                "model": "gpt-4o",
                "to_model": None,
                "description": "Send non-interactive gpt-4o work through a batch API.",
                "savings_pct": 5.84,
                "projected_monthly_savings_usd": 15.33,
            },
            {
                "kind": "output_trimming",
                "model": "gpt-4o",
                "to_model": None,
                "description": "Trim gpt-4o output: set max_tokens and ask for terser formats.",
                "savings_pct": 5.71,
                "projected_monthly_savings_usd": 15.0,
            },
            {
                "kind": "prompt_caching",
                "model": "gpt-4o",
                "to_model": None,
                "description": "Cache the repeated prompt prefix of gpt-4o requests.",
                "savings_pct": 5.36,
                "projected_monthly_savings_usd": 14.06,
            },
        ],
        "baseline_monthly_cost_usd": 262.5,
        "total_projected_monthly_savings_usd": 175.64,
        "assumptions": ASSUMPTIONS,
        "missing": [],
    }


def test_each_recommendation_names_the_model_it_is_for() -> None:
    workload = Workload(models=("gpt-4o", "claude-3-opus"))
    recommendations = cost_optimizer(workload)["recommendations"]
    assert {rec["model"] for rec in recommendations} == {"gpt-4o", "claude-3-opus"}
    for rec in recommendations:
        assert rec["model"] in rec["description"]


# --- advanced analytics


def test_advanced_analytics_output_is_exactly_this() -> None:
    # Days 0..7: seven days at $1 and one at $10. Trend: slope 0.75, intercept -0.3125;
    # the $10 day's z-score is sqrt(7) = 2.64575...
    result = advanced_analytics(history([1, 1, 1, 1, 1, 1, 1, 10]))
    assert result == {
        "days_of_history": 8,
        "forecast": [
            {"day_offset": k, "day": f"2026-11-{8 + k:02d}", "cost_usd": cost}
            for k, cost in enumerate([5.5, 6.25, 7.0, 7.75, 8.5, 9.25, 10.0], start=1)
        ],
        "forecast_total_usd": 54.25,
        "trend": {"slope_usd_per_day": 0.75, "direction": "rising"},
        "anomalies": [{"day": "2026-11-08", "cost_usd": 10, "z_score": 2.6458}],
        "totals": {"runs": 8, "input_tokens": 80, "output_tokens": 40, "cost_usd": 17},
        "note": None,
    }


def test_the_slope_is_reported_to_four_decimals() -> None:
    # Days 0, 1, 3 costing 0, 0, 1: slope (5/3) / (14/3) = 5/14 = 0.357142...
    trend = advanced_analytics(history([0.0, 0.0, 1.0], offsets=[0, 1, 3]))["trend"]
    assert trend == {"slope_usd_per_day": 0.3571, "direction": "rising"}


def test_the_direction_agrees_with_the_reported_slope() -> None:
    # A slope of 0.00004 $/day is reported as 0.0, so the direction is flat, not rising.
    trend = advanced_analytics(history([1.0, 1.00004]))["trend"]
    assert trend == {"slope_usd_per_day": 0.0, "direction": "flat"}


def test_costs_below_zero_are_clamped_to_zero_not_more() -> None:
    result = advanced_analytics(history([0.5, -3.0, 1.0]))
    assert result["totals"]["cost_usd"] == 1.5


@pytest.mark.parametrize(
    ("days", "note"),
    [
        (0, "No usage history yet: the forecast is zero until runs are recorded."),
        (1, "Only 1 day(s) of history: anomaly detection needs at least 6."),
        (5, "Only 5 day(s) of history: anomaly detection needs at least 6."),
        (6, None),
    ],
)
def test_the_history_note_says_what_is_missing(days: int, note: str | None) -> None:
    assert advanced_analytics(history([1.0] * days))["note"] == note
