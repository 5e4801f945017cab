"""Figures from samples: nearest-rank percentiles and rates over a span."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pct(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rate_over(count: int, first: float, last: float) -> float:
    """Events per second of ``count`` events from ``first`` to ``last`` (one interval fewer)."""
    return (count - 1) / (last - first) if count > 1 and last > first else 0.0
