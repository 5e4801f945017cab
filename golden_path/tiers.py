"""The customer tier table of protocol v1: defined once, read by everything that differs by tier."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    FREE = "free"
    EARLY = "early"
    MID = "mid"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)

    @property
    def limits(self) -> TierLimits:
        return TIER_LIMITS[self]

    @classmethod
    def parse(cls, value: object) -> Tier:
        """The tier named by ``value``; a clear ``ValueError`` for anything else."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value))
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown tier {value!r} (expected one of: {names})") from None


class Tool(StrEnum):
    USAGE_ANALYZER = "usage_analyzer"
    COST_OPTIMIZER = "cost_optimizer"
    REPORT_BUILDER = "report_builder"
    ADVANCED_ANALYTICS = "advanced_analytics"


# What one call of each tool costs the house, in USD: an AG-UI run of a tier whose
# ``approval_above_usd`` it exceeds pauses for the user's approval first.
TOOL_CALL_USD: dict[Tool, float] = {
    Tool.USAGE_ANALYZER: 0.0,
    Tool.COST_OPTIMIZER: 0.02,
    Tool.REPORT_BUILDER: 0.05,
    Tool.ADVANCED_ANALYTICS: 0.50,
}

TIER_ORDER: tuple[Tier, ...] = (Tier.FREE, Tier.EARLY, Tier.MID, Tier.ENTERPRISE)


@dataclass(frozen=True, slots=True)
class TierLimits:
    runs_per_day: int
    concurrent_runs: int
    open_websockets: int
    open_agui_streams: int
    messages_per_minute: int
    max_message_chars: int
    retention_days: int
    tools: tuple[Tool, ...]
    # An AG-UI run asks the user's approval before a tool whose price (TOOL_CALL_USD) is
    # above this many USD; None: never asks (protocol §12.1).
    approval_above_usd: float | None


TIER_LIMITS: dict[Tier, TierLimits] = {
    Tier.FREE: TierLimits(
        runs_per_day=10,
        concurrent_runs=1,
        open_websockets=2,
        open_agui_streams=2,
        messages_per_minute=20,
        max_message_chars=2_000,
        retention_days=7,
        tools=(Tool.USAGE_ANALYZER,),
        approval_above_usd=None,
    ),
    Tier.EARLY: TierLimits(
        runs_per_day=100,
        concurrent_runs=3,
        open_websockets=5,
        open_agui_streams=5,
        messages_per_minute=60,
        max_message_chars=8_000,
        retention_days=30,
        tools=(Tool.USAGE_ANALYZER, Tool.COST_OPTIMIZER),
        approval_above_usd=None,
    ),
    Tier.MID: TierLimits(
        runs_per_day=500,
        concurrent_runs=5,
        open_websockets=10,
        open_agui_streams=10,
        messages_per_minute=120,
        max_message_chars=16_000,
        retention_days=90,
        tools=(Tool.USAGE_ANALYZER, Tool.COST_OPTIMIZER, Tool.REPORT_BUILDER),
        approval_above_usd=0.04,
    ),
    Tier.ENTERPRISE: TierLimits(
        runs_per_day=10_000,
        concurrent_runs=20,
        open_websockets=50,
        open_agui_streams=50,
        messages_per_minute=600,
        max_message_chars=32_000,
        retention_days=365,
        tools=(
            Tool.USAGE_ANALYZER,
            Tool.COST_OPTIMIZER,
            Tool.REPORT_BUILDER,
            Tool.ADVANCED_ANALYTICS,
        ),
        approval_above_usd=0.25,
    ),
}


def lowest_tier_with(tool: Tool) -> Tier:
    """The cheapest tier whose plan includes ``tool`` (what an upgrade prompt asks for)."""
    for tier in TIER_ORDER:
        if tool in TIER_LIMITS[tier].tools:
            return tier
    raise ValueError(f"no tier includes the tool {tool!r}")


def allows(tier: Tier, tool: Tool) -> bool:
    return tool in TIER_LIMITS[tier].tools


def needs_approval(tier: Tier, tool: Tool) -> bool:
    """Whether an AG-UI run on ``tier`` asks the user before running ``tool``."""
    limit = TIER_LIMITS[tier].approval_above_usd
    return limit is not None and TOOL_CALL_USD[tool] > limit
