"""The tier table is exactly PROTOCOL v1's, and every lookup built on it agrees with it."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from golden_path.tiers import (
    TIER_LIMITS,
    TIER_ORDER,
    TOOL_CALL_USD,
    Tier,
    TierLimits,
    Tool,
    allows,
    lowest_tier_with,
    needs_approval,
)

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="each plan gives exactly the limits and tools it advertises",
        revenue_impact="a drifted table either gives paid tools away (lost upgrades) or "
        "denies what a customer paid for (churn)",
    ),
]

UA, CO, RB, AA = (
    Tool.USAGE_ANALYZER,
    Tool.COST_OPTIMIZER,
    Tool.REPORT_BUILDER,
    Tool.ADVANCED_ANALYTICS,
)
PROTOCOL_V1 = [
    # tier, runs/day, concurrent, sockets, AG-UI streams, msgs/min, max chars, retention, tools,
    # approval above (USD)
    (Tier.FREE, 10, 1, 2, 2, 20, 2_000, 7, (UA,), None),
    (Tier.EARLY, 100, 3, 5, 5, 60, 8_000, 30, (UA, CO), None),
    (Tier.MID, 500, 5, 10, 10, 120, 16_000, 90, (UA, CO, RB), 0.04),
    (Tier.ENTERPRISE, 10_000, 20, 50, 50, 600, 32_000, 365, (UA, CO, RB, AA), 0.25),
]
NUMERIC_LIMITS = [
    f.name for f in dataclasses.fields(TierLimits) if f.name not in ("tools", "approval_above_usd")
]  # every limit except the tool list and the approval threshold (None: never asks)


@pytest.mark.parametrize(
    (
        "tier",
        "runs",
        "concurrent",
        "sockets",
        "streams",
        "per_minute",
        "chars",
        "retention",
        "tools",
        "approval",
    ),
    PROTOCOL_V1,
    ids=[row[0].value for row in PROTOCOL_V1],
)
def test_tier_row_matches_protocol_v1(
    tier: Tier,
    runs: int,
    concurrent: int,
    sockets: int,
    streams: int,
    per_minute: int,
    chars: int,
    retention: int,
    tools: tuple[Tool, ...],
    approval: float | None,
) -> None:
    assert TIER_LIMITS[tier] == TierLimits(
        runs_per_day=runs,
        concurrent_runs=concurrent,
        open_websockets=sockets,
        open_agui_streams=streams,
        messages_per_minute=per_minute,
        max_message_chars=chars,
        retention_days=retention,
        tools=tools,
        approval_above_usd=approval,
    )
    assert tier.limits is TIER_LIMITS[tier]


def test_table_has_exactly_the_four_tiers_in_price_order() -> None:
    assert TIER_ORDER == (Tier.FREE, Tier.EARLY, Tier.MID, Tier.ENTERPRISE)
    assert set(TIER_LIMITS) == set(Tier)
    assert [t.rank for t in TIER_ORDER] == [0, 1, 2, 3]
    assert [t.value for t in TIER_ORDER] == ["free", "early", "mid", "enterprise"]


def test_table_has_exactly_the_four_tools() -> None:
    assert [t.value for t in Tool] == [
        "usage_analyzer",
        "cost_optimizer",
        "report_builder",
        "advanced_analytics",
    ]


@pytest.mark.parametrize("limit", NUMERIC_LIMITS)
def test_numeric_limit_rises_strictly_with_rank(limit: str) -> None:
    values = [getattr(TIER_LIMITS[t], limit) for t in TIER_ORDER]
    assert all(lower < higher for lower, higher in itertools.pairwise(values)), values


def test_each_tier_keeps_every_tool_of_the_tier_below_and_adds_one() -> None:
    for lower, higher in itertools.pairwise(TIER_ORDER):
        below, above = set(lower.limits.tools), set(higher.limits.tools)
        assert below < above
        assert len(above - below) == 1


def test_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TIER_LIMITS[Tier.FREE].runs_per_day = 10_000  # type: ignore[misc]


def test_parse_accepts_each_tier_and_its_value() -> None:
    for tier in Tier:
        assert Tier.parse(tier) is tier
        assert Tier.parse(tier.value) is tier


@pytest.mark.parametrize("value", ["platinum", "", "Free ", None, 2, "free,mid"])
def test_parse_rejects_anything_else_listing_the_tiers(value: object) -> None:
    with pytest.raises(
        ValueError, match=r"expected one of: free, early, mid, enterprise\)$"
    ) as caught:
        Tier.parse(value)
    assert str(caught.value).startswith(f"unknown tier {value!r} ")
    assert caught.value.__suppress_context__  # the message stands on its own, no enum noise


@pytest.mark.parametrize(
    ("tool", "tier"),
    [(UA, Tier.FREE), (CO, Tier.EARLY), (RB, Tier.MID), (AA, Tier.ENTERPRISE)],
)
def test_lowest_tier_with_tool(tool: Tool, tier: Tier) -> None:
    assert lowest_tier_with(tool) is tier


def test_lowest_tier_with_unknown_tool_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no tier includes the tool 'teleporter'"):
        lowest_tier_with("teleporter")  # type: ignore[arg-type]


@pytest.mark.parametrize("tool", list(Tool))
def test_allows_exactly_from_the_lowest_tier_up(tool: Tool) -> None:
    allowed_from = lowest_tier_with(tool).rank
    for tier in TIER_ORDER:
        assert allows(tier, tool) == (tier.rank >= allowed_from), (tier, tool)
        assert allows(tier, tool) == (tool in tier.limits.tools), (tier, tool)


def test_tool_prices_are_protocol_v1s() -> None:
    assert TOOL_CALL_USD == {UA: 0.0, CO: 0.02, RB: 0.05, AA: 0.50}


@pytest.mark.parametrize(
    ("tier", "asks_for"),
    [(Tier.FREE, set()), (Tier.EARLY, set()), (Tier.MID, {RB, AA}), (Tier.ENTERPRISE, {AA})],
)
def test_a_tier_asks_approval_exactly_for_the_tools_priced_above_its_threshold(
    tier: Tier, asks_for: set[Tool]
) -> None:
    assert {tool for tool in Tool if needs_approval(tier, tool)} == asks_for
