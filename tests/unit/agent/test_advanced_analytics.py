"""Advanced analytics: the 7-day cost forecast, the trend and anomaly detection."""

import datetime
import math

import pytest

from golden_path.agent.forecast import fit_trend, z_scores
from golden_path.agent.history import DailyUsage
from golden_path.agent.tools import advanced_analytics

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="enterprise",
        goal="retention",
        value_impact="Enterprise finance teams plan budgets on the forecast and investigate the "
        "flagged days; both must be exact regressions and z-scores over their history.",
        revenue_impact="Forecasting and anomaly alerts are the Enterprise differentiator; a wrong "
        "forecast or a missed spike undermines the largest contracts.",
    ),
]

START = datetime.date(2024, 3, 1)


def _history(costs: list[float], *, step_days: int = 1) -> list[DailyUsage]:
    return [
        DailyUsage(
            day=START + datetime.timedelta(days=i * step_days),
            runs=10,
            input_tokens=1_000,
            output_tokens=250,
            cost_usd=cost,
        )
        for i, cost in enumerate(costs)
    ]


def test_empty_history_forecasts_zeros_with_a_note() -> None:
    result = advanced_analytics([])
    assert [p["cost_usd"] for p in result["forecast"]] == [0.0] * 7
    assert [p["day_offset"] for p in result["forecast"]] == [1, 2, 3, 4, 5, 6, 7]
    assert all(p["day"] is None for p in result["forecast"])
    assert result["anomalies"] == []
    assert result["trend"] == {"slope_usd_per_day": 0.0, "direction": "flat"}
    assert result["days_of_history"] == 0
    assert "No usage history" in result["note"]


def test_a_linear_series_is_extended_exactly() -> None:
    # cost = 10 + 2 * day for days 0..4, so days 5..11 cost 20, 22, ..., 32 (total 182).
    result = advanced_analytics(_history([10.0, 12.0, 14.0, 16.0, 18.0]))
    assert [p["cost_usd"] for p in result["forecast"]] == [20.0, 22.0, 24.0, 26.0, 28.0, 30.0, 32.0]
    assert result["forecast"][0]["day"] == "2024-03-06"
    assert result["forecast"][-1]["day"] == "2024-03-12"
    assert result["forecast_total_usd"] == 182.0
    assert result["trend"] == {"slope_usd_per_day": 2.0, "direction": "rising"}
    assert result["note"] == ("Only 5 day(s) of history: anomaly detection needs at least 6.")


def test_a_falling_forecast_never_goes_below_zero() -> None:
    result = advanced_analytics(_history([30.0, 20.0, 10.0]))
    assert [p["cost_usd"] for p in result["forecast"]] == [0.0] * 7
    assert result["trend"]["direction"] == "falling"


def test_gaps_between_days_count_as_days() -> None:
    # Days 0 and 2 cost 10 and 30: slope $10/day, so day 3 costs 40.
    result = advanced_analytics(_history([10.0, 30.0], step_days=2))
    assert result["forecast"][0] == {"day_offset": 1, "day": "2024-03-04", "cost_usd": 40.0}


def test_unsorted_history_is_read_in_date_order() -> None:
    result = advanced_analytics(list(reversed(_history([10.0, 12.0, 14.0]))))
    assert result["forecast"][0] == {"day_offset": 1, "day": "2024-03-04", "cost_usd": 16.0}


def test_a_spike_is_an_anomaly() -> None:
    # Nine days at $10 and one at $50: mean 14, population stdev 12, spike z = 36 / 12 = 3.
    costs = [10.0] * 9
    costs.insert(4, 50.0)
    result = advanced_analytics(_history(costs))
    assert result["anomalies"] == [{"day": "2024-03-05", "cost_usd": 50.0, "z_score": 3.0}]


def test_a_drop_is_an_anomaly_too() -> None:
    costs = [100.0] * 9 + [0.0]
    [anomaly] = advanced_analytics(_history(costs))["anomalies"]
    assert anomaly["day"] == "2024-03-10"
    assert anomaly["z_score"] == -3.0


def test_a_flat_series_has_no_anomalies() -> None:
    result = advanced_analytics(_history([7.0] * 14))
    assert result["anomalies"] == []
    assert result["trend"]["direction"] == "flat"
    assert [p["cost_usd"] for p in result["forecast"]] == [7.0] * 7


def test_fewer_than_six_days_never_flag_an_anomaly() -> None:
    # Over n days a z-score is at most (n - 1) / sqrt(n): 2 is out of reach below 6 days.
    result = advanced_analytics(_history([1.0, 1.0, 1.0, 1.0, 1000.0]))
    assert result["anomalies"] == []
    assert "at least 6" in result["note"]


def test_six_days_are_enough_to_flag_a_spike() -> None:
    result = advanced_analytics(_history([1.0, 1.0, 1.0, 1.0, 1.0, 1000.0]))
    assert [a["cost_usd"] for a in result["anomalies"]] == [1000.0]
    assert result["note"] is None


def test_totals_sum_the_history() -> None:
    result = advanced_analytics(_history([1.25, 2.5, 3.75]))
    assert result["totals"] == {
        "runs": 30,
        "input_tokens": 3_000,
        "output_tokens": 750,
        "cost_usd": 7.5,
    }


def test_days_with_a_non_finite_cost_are_ignored() -> None:
    history = _history([10.0, math.nan, 12.0, math.inf])
    result = advanced_analytics(history)
    assert result["days_of_history"] == 2
    assert result["totals"]["cost_usd"] == 22.0


def test_fit_trend_through_one_point_is_flat_at_that_value() -> None:
    trend = fit_trend([0], [5.0])
    assert (trend.slope, trend.intercept) == (0.0, 5.0)


def test_z_scores_by_hand() -> None:
    # mean 40 / 8 = 5, population stdev sqrt(32 / 8) = 2.
    assert z_scores([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(
        [-1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 1.0, 2.0]
    )
