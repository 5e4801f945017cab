"""The agent's four tools as pure functions returning JSON-serialisable dicts.

Outputs hold only str/int/float/bool/None/list/dict. Money is rounded to cents,
shares and rates to 4 decimals. No tool raises on any ``Workload``: models not in
the price table are ignored and numbers are clamped into range first.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any

from golden_path.agent import forecast, report, savings
from golden_path.agent.costing import (
    ALLOCATION,
    DAYS_PER_MONTH,
    ModelCost,
    cents,
    missing_facts,
    per_model_tokens,
    sanitised,
)
from golden_path.agent.history import DailyUsage
from golden_path.agent.prices import PRICES
from golden_path.agent.workload import Workload

FORECAST_DAYS = 7
MAX_DAILY_COST_USD = 1e12  # history costs are clamped to [0, this] before any statistics
# With no known volume, savings are ranked and sized as shares of this notional traffic.
_NOTIONAL_TOKENS_PER_DAY = 1_000_000


def usage_analyzer(workload: Workload) -> dict[str, Any]:
    """Per-model daily and monthly cost of the workload, the totals, and the missing facts."""
    work = sanitised(workload)
    tokens = per_model_tokens(work)
    models = []
    for name in work.models:
        price = PRICES[name]
        cost = None if tokens is None else ModelCost(price, tokens, work.input_share)
        models.append(
            {
                "model": name,
                "provider": price.provider,
                "model_class": price.model_class.value,
                "input_per_mtok": price.input_per_mtok,
                "output_per_mtok": price.output_per_mtok,
                "tokens_per_day": None if tokens is None else round(tokens),
                "daily_cost_usd": None if cost is None else cents(cost.usd_per_day),
                "monthly_cost_usd": None
                if cost is None
                else cents(cost.usd_per_day * DAYS_PER_MONTH),
            }
        )
    daily = (
        None
        if tokens is None
        else sum(ModelCost(PRICES[m], tokens, work.input_share).usd_per_day for m in work.models)
    )
    per_1k_requests = None
    if daily is not None and work.requests_per_day:
        per_1k_requests = cents(daily / work.requests_per_day * 1000)
    return {
        "models": models,
        "tokens_per_day": work.tokens_per_day,
        "requests_per_day": work.requests_per_day,
        "input_share": round(work.input_share, 4),
        "allocation": ALLOCATION,
        "days_per_month": DAYS_PER_MONTH,
        "total_daily_cost_usd": None if daily is None else cents(daily),
        "total_monthly_cost_usd": None if daily is None else cents(daily * DAYS_PER_MONTH),
        "cost_per_1k_requests_usd": per_1k_requests,
        "missing": missing_facts(work),
    }


def cost_optimizer(workload: Workload) -> dict[str, Any]:
    """Savings recommendations, biggest first, each with its projected monthly savings.

    Without a token volume the recommendations are still listed (ranked at a
    notional volume, with ``savings_pct``) but their USD figures are ``None``.
    """
    work = sanitised(workload)
    tokens = per_model_tokens(work)
    volume = _NOTIONAL_TOKENS_PER_DAY if tokens is None else tokens
    order = {lever: i for i, lever in enumerate(savings.Lever)}
    found = []
    baseline_daily = 0.0
    for index, name in enumerate(work.models):
        baseline = ModelCost(PRICES[name], volume, work.input_share)
        baseline_daily += baseline.usd_per_day
        for rec in savings.recommend(baseline, volume_known=tokens is not None):
            found.append((-rec.usd_per_day, index, order[rec.lever], rec))
    found.sort(key=lambda item: item[:3])
    known = tokens is not None
    recommendations = [
        {
            "kind": rec.lever.value,
            "model": rec.model,
            "to_model": rec.to_model,
            "description": rec.description,
            "savings_pct": round(rec.share_of_model_cost * 100, 2),
            "projected_monthly_savings_usd": cents(rec.usd_per_day * DAYS_PER_MONTH)
            if known
            else None,
        }
        for *_, rec in found
    ]
    total_daily = sum(rec.usd_per_day for *_, rec in found)
    return {
        "recommendations": recommendations,
        "baseline_monthly_cost_usd": cents(baseline_daily * DAYS_PER_MONTH) if known else None,
        "total_projected_monthly_savings_usd": cents(total_daily * DAYS_PER_MONTH)
        if known
        else None,
        "assumptions": {
            "cacheable_input_share": savings.CACHEABLE_INPUT_SHARE,
            "cache_discount": savings.CACHE_DISCOUNT,
            "output_trim_share": savings.OUTPUT_TRIM_SHARE,
            "batch_threshold_tokens_per_day": savings.BATCH_THRESHOLD_TOKENS_PER_DAY,
            "batchable_share": savings.BATCHABLE_SHARE,
            "batch_discount": savings.BATCH_DISCOUNT,
        },
        "missing": missing_facts(work),
    }


def report_builder(
    workload: Workload, analysis: dict[str, Any], optimization: dict[str, Any] | None
) -> dict[str, Any]:
    """A Markdown spend report built from ``usage_analyzer`` (and ``cost_optimizer``) output."""
    return {"format": "markdown", "markdown": report.render(workload, analysis, optimization)}


def advanced_analytics(history: Sequence[DailyUsage]) -> dict[str, Any]:
    """A 7-day linear-regression forecast of daily cost, the trend, and anomalous days.

    Days with a non-finite cost are ignored. With no usable history the forecast
    is all zeros and ``note`` says why; anomalies need at least ``MIN_ANOMALY_DAYS`` days.
    """
    days = sorted((day for day in history if math.isfinite(day.cost_usd)), key=lambda day: day.day)
    costs = [min(max(day.cost_usd, 0.0), MAX_DAILY_COST_USD) for day in days]
    first = days[0].day if days else None
    xs = [(day.day - first).days for day in days] if first is not None else []
    trend = forecast.fit_trend(xs, costs)
    last_x = xs[-1] if xs else 0
    predicted = [cents(trend.at(last_x + k)) for k in range(1, FORECAST_DAYS + 1)]
    return {
        "days_of_history": len(days),
        "forecast": [
            {
                "day_offset": k,
                "day": _day_after(days[-1].day, k) if days else None,
                "cost_usd": cost,
            }
            for k, cost in enumerate(predicted, start=1)
        ],
        "forecast_total_usd": cents(sum(predicted)),
        "trend": {
            "slope_usd_per_day": round(trend.slope, 4),
            "direction": _direction(trend.slope),
        },
        "anomalies": [
            {"day": days[i].day.isoformat(), "cost_usd": cents(costs[i]), "z_score": round(z, 4)}
            for i, z in forecast.anomalous(costs)
        ],
        "totals": {
            "runs": sum(day.runs for day in days),
            "input_tokens": sum(day.input_tokens for day in days),
            "output_tokens": sum(day.output_tokens for day in days),
            "cost_usd": cents(sum(costs)),
        },
        "note": _history_note(len(days)),
    }


def _day_after(day: datetime.date, days: int) -> str | None:
    try:
        return (day + datetime.timedelta(days=days)).isoformat()
    except OverflowError:
        return None


def _direction(slope: float) -> str:
    rounded = round(slope, 4)
    if rounded > 0:
        return "rising"
    if rounded < 0:
        return "falling"
    return "flat"


def _history_note(days: int) -> str | None:
    if days == 0:
        return "No usage history yet: the forecast is zero until runs are recorded."
    if days < forecast.MIN_ANOMALY_DAYS:
        needed = forecast.MIN_ANOMALY_DAYS
        return f"Only {days} day(s) of history: anomaly detection needs at least {needed}."
    return None
