"""The statistics behind advanced analytics at their edges: a flat series, z exactly 2.

Written from mutation testing (see docs/testing.md).
"""

from __future__ import annotations

import pytest

from golden_path.agent import forecast

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="enterprise",
        goal="retention",
        value_impact="Enterprise users act on anomaly flags; a steady day flagged, or a flat "
        "series scored as off-trend, sends them chasing spend that never happened.",
        revenue_impact="False alarms on the Enterprise-only analytics erode the reason to pay "
        "for the top plan.",
    ),
]


def test_a_flat_series_has_all_zero_z_scores() -> None:
    assert forecast.z_scores([5.0, 5.0, 5.0, 5.0]) == [0.0, 0.0, 0.0, 0.0]


def test_a_z_score_of_exactly_two_is_not_an_anomaly() -> None:
    # Mean 1, population stdev 2: the $5 day's z-score is exactly (5 - 1) / 2 = 2.0.
    values = [0.0, 0.0, 0.0, 0.0, 5.0]
    assert forecast.z_scores(values)[-1] == forecast.ANOMALY_Z
    assert forecast.anomalous(values) == []
    assert forecast.anomalous([*values, 0.0]) == [(4, pytest.approx(2.236, abs=1e-3))]


def test_a_trend_refuses_days_and_costs_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="zip"):
        forecast.fit_trend([0, 1, 2], [1.0, 2.0])
