"""One day of a user's recorded AI usage: the input of the advanced-analytics tool."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """The runs, tokens and cost of a single day."""

    day: datetime.date
    runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
