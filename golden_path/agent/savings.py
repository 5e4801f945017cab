"""The cost optimizer's levers and how much each saves on one model's traffic.

Levers apply in a fixed sequence so savings never double-count: switch to the
cheapest model of the same class, then prompt caching on the input, then output
trimming, then batching (only for large known volumes) on what is left. Each
``Recommendation`` carries the daily saving at the traffic it was computed for;
the tools turn that into monthly USD.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from golden_path.agent.costing import ModelCost
from golden_path.agent.prices import PRICES, ModelPrice

CACHEABLE_INPUT_SHARE = 0.5  # share of input tokens that are a repeated prompt prefix
CACHE_DISCOUNT = 0.5  # price cut on cached input tokens
OUTPUT_TRIM_SHARE = 0.2  # output tokens removed by tighter max_tokens and terser formats
BATCH_THRESHOLD_TOKENS_PER_DAY = 1_000_000  # per model; below it batching is not worth it
BATCHABLE_SHARE = 0.3  # share of traffic that can wait for a batch API
BATCH_DISCOUNT = 0.5  # batch API price cut


class Lever(StrEnum):
    SWITCH_MODEL = "switch_model"
    PROMPT_CACHING = "prompt_caching"
    OUTPUT_TRIMMING = "output_trimming"
    BATCHING = "batching"


@dataclass(frozen=True, slots=True)
class Recommendation:
    lever: Lever
    model: str
    to_model: str | None
    usd_per_day: float
    share_of_model_cost: float
    description: str


def cheapest_alternative(price: ModelPrice, input_share: float) -> ModelPrice | None:
    """The cheapest model of ``price``'s class that is strictly cheaper, else ``None``."""
    candidates = [
        other
        for other in PRICES.values()
        if other.model_class is price.model_class
        and other.blended_per_mtok(input_share) < price.blended_per_mtok(input_share)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda other: (other.blended_per_mtok(input_share), other.name))


def recommend(baseline: ModelCost, *, volume_known: bool) -> list[Recommendation]:
    """The levers that save money on ``baseline``, in application order, savings > 0 only."""
    name = baseline.price.name
    total = baseline.usd_per_day
    found: list[Recommendation] = []

    def add(lever: Lever, saved: float, description: str, to_model: str | None = None) -> None:
        if saved > 0:
            found.append(Recommendation(lever, name, to_model, saved, saved / total, description))

    current = baseline
    alternative = cheapest_alternative(baseline.price, baseline.input_share)
    if alternative is not None:
        current = baseline.on(alternative)
        add(
            Lever.SWITCH_MODEL,
            baseline.usd_per_day - current.usd_per_day,
            f"Move {name} traffic to {alternative.name} ({alternative.provider}), "
            f"a cheaper {alternative.model_class.value} model.",
            alternative.name,
        )
    input_cost = current.input_usd_per_day
    output_cost = current.output_usd_per_day

    cached = input_cost * CACHEABLE_INPUT_SHARE * CACHE_DISCOUNT
    input_cost -= cached
    add(Lever.PROMPT_CACHING, cached, f"Cache the repeated prompt prefix of {name} requests.")

    trimmed = output_cost * OUTPUT_TRIM_SHARE
    output_cost -= trimmed
    add(
        Lever.OUTPUT_TRIMMING,
        trimmed,
        f"Trim {name} output: set max_tokens and ask for terser formats.",
    )

    if volume_known and baseline.tokens_per_day >= BATCH_THRESHOLD_TOKENS_PER_DAY:
        batched = (input_cost + output_cost) * BATCHABLE_SHARE * BATCH_DISCOUNT
        add(Lever.BATCHING, batched, f"Send non-interactive {name} work through a batch API.")
    return found
