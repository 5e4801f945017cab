"""Statistics behind advanced analytics: a least-squares cost trend and z-score anomalies."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

ANOMALY_Z = 2.0  # a day is anomalous when its cost is more than this many stdevs from the mean
# A z-score over n values is at most (n - 1) / sqrt(n): it first exceeds ANOMALY_Z = 2 at
# n = 6, so with fewer days no day could be flagged, and the note says so instead.
MIN_ANOMALY_DAYS = 6


@dataclass(frozen=True, slots=True)
class Trend:
    """``cost = intercept + slope * x``, x in days since the first recorded day."""

    slope: float
    intercept: float

    def at(self, x: int) -> float:
        """The trend's cost on day ``x``, never below zero."""
        return max(0.0, self.intercept + self.slope * x)


def fit_trend(xs: Sequence[int], ys: Sequence[float]) -> Trend:
    """The least-squares line through ``(xs, ys)``; flat at the mean when x never varies."""
    if not ys:
        return Trend(0.0, 0.0)
    mean_x = statistics.fmean(xs)
    mean_y = statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return Trend(0.0, mean_y)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return Trend(slope, mean_y - slope * mean_x)


def z_scores(values: Sequence[float]) -> list[float]:
    """Each value's z-score against the population mean and stdev (zeros when flat)."""
    if not values:
        return []
    mean = statistics.fmean(values)
    stdev = statistics.pstdev(values)
    if stdev == 0 or not math.isfinite(stdev):
        return [0.0] * len(values)
    return [(value - mean) / stdev for value in values]


def anomalous(values: Sequence[float]) -> list[tuple[int, float]]:
    """``(index, z)`` of every value with ``|z| > ANOMALY_Z``; none below ``MIN_ANOMALY_DAYS``."""
    if len(values) < MIN_ANOMALY_DAYS:
        return []
    return [(i, z) for i, z in enumerate(z_scores(values)) if abs(z) > ANOMALY_Z]
