"""Cost arithmetic shared by the tools: a workload made safe to compute with, and model costs.

A month is ``DAYS_PER_MONTH`` days. When several models are named with one
total volume, the volume is split evenly between them (``allocation`` in the
tools' output says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from golden_path.agent.prices import PRICES, ModelPrice
from golden_path.agent.workload import (
    DEFAULT_INPUT_SHARE,
    MAX_REQUESTS_PER_DAY,
    MAX_TOKENS_PER_DAY,
    Workload,
)

DAYS_PER_MONTH = 30
ALLOCATION = "even_split"
_TOKENS_PER_MTOK = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelCost:
    """What ``tokens_per_day`` tokens a day cost on one model at a given input share."""

    price: ModelPrice
    tokens_per_day: float
    input_share: float

    @property
    def input_usd_per_day(self) -> float:
        tokens = self.tokens_per_day * self.input_share
        return tokens * self.price.input_per_mtok / _TOKENS_PER_MTOK

    @property
    def output_usd_per_day(self) -> float:
        tokens = self.tokens_per_day * (1.0 - self.input_share)
        return tokens * self.price.output_per_mtok / _TOKENS_PER_MTOK

    @property
    def usd_per_day(self) -> float:
        return self.input_usd_per_day + self.output_usd_per_day

    def on(self, other: ModelPrice) -> ModelCost:
        """The same traffic priced on ``other``."""
        return ModelCost(other, self.tokens_per_day, self.input_share)


def sanitised(workload: Workload) -> Workload:
    """``workload`` with unknown or repeated models dropped and numbers forced into range."""
    models = tuple(dict.fromkeys(m for m in workload.models if m in PRICES))
    share = workload.input_share
    if not math.isfinite(share):
        share = DEFAULT_INPUT_SHARE
    return Workload(
        models=models,
        tokens_per_day=_clamped(workload.tokens_per_day, MAX_TOKENS_PER_DAY),
        requests_per_day=_clamped(workload.requests_per_day, MAX_REQUESTS_PER_DAY),
        input_share=min(max(share, 0.0), 1.0),
    )


def _clamped(value: int | None, maximum: int) -> int | None:
    return None if value is None else min(max(value, 0), maximum)


def per_model_tokens(workload: Workload) -> float | None:
    """Daily tokens each named model serves under the even split; ``None`` if unknown."""
    if workload.tokens_per_day is None or not workload.models:
        return None
    return workload.tokens_per_day / len(workload.models)


def missing_facts(workload: Workload) -> list[str]:
    """The names of the workload facts that are not known."""
    missing = []
    if not workload.models:
        missing.append("models")
    if workload.tokens_per_day is None:
        missing.append("tokens_per_day")
    if workload.requests_per_day is None:
        missing.append("requests_per_day")
    return missing


def cents(value: float) -> float:
    return round(value, 2)
