"""Upgrade prompts: what each tier runs and which paid feature it is offered."""

import pytest

from golden_path.agent import AgentRequest, Completion, SpendOptimizationAgent, ToolCall, Upgrade
from golden_path.tiers import TIER_ORDER, Tier, Tool, allows, lowest_tier_with

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="free",
        goal="conversion",
        value_impact="A user who asks for a feature above their plan still gets every answer "
        "their plan allows, plus one clear prompt naming the plan that unlocks the rest.",
        revenue_impact="The upgrade prompt at the moment of need is the product's main "
        "free-to-paid conversion path; a missing or wrong prompt loses the sale.",
    ),
]

ASKS: dict[Tool, str] = {
    Tool.USAGE_ANALYZER: "gpt-4o at 2M tokens/day: what do I spend?",
    Tool.COST_OPTIMIZER: "gpt-4o at 2M tokens/day: how can I save?",
    Tool.REPORT_BUILDER: "gpt-4o at 2M tokens/day: build a report for my team",
    Tool.ADVANCED_ANALYTICS: "gpt-4o at 2M tokens/day: forecast next week",
}


def _run(content: str, tier: Tier) -> tuple[list[Tool], Completion]:
    steps = list(SpendOptimizationAgent().steps(AgentRequest(content=content, tier=tier)))
    completion = steps[-1]
    assert isinstance(completion, Completion)
    return [step.tool for step in steps if isinstance(step, ToolCall)], completion


@pytest.mark.parametrize("tier", TIER_ORDER)
@pytest.mark.parametrize("tool", list(Tool))
def test_each_tier_runs_what_it_allows_and_prompts_for_the_rest(tier: Tier, tool: Tool) -> None:
    ran, completion = _run(ASKS[tool], tier)
    if allows(tier, tool):
        assert ran == list(dict.fromkeys([Tool.USAGE_ANALYZER, tool]))
        assert completion.upgrade is None
    else:
        assert ran == [Tool.USAGE_ANALYZER]
        assert completion.upgrade is not None
        assert completion.upgrade.required_tier is lowest_tier_with(tool)
        assert completion.upgrade.feature is tool
        assert completion.upgrade.required_tier.value.capitalize() in completion.upgrade.message


@pytest.mark.parametrize(
    ("tier", "required", "feature"),
    [
        (Tier.FREE, Tier.ENTERPRISE, Tool.ADVANCED_ANALYTICS),
        (Tier.EARLY, Tier.ENTERPRISE, Tool.ADVANCED_ANALYTICS),
        (Tier.MID, Tier.ENTERPRISE, Tool.ADVANCED_ANALYTICS),
    ],
)
def test_the_most_valuable_missing_tool_is_offered(
    tier: Tier, required: Tier, feature: Tool
) -> None:
    ran, completion = _run("gpt-4o, 2M tokens/day: save money, report and forecast", tier)
    assert ran == [t for t in Tool if allows(tier, t)]
    assert completion.upgrade is not None
    assert (completion.upgrade.required_tier, completion.upgrade.feature) == (required, feature)


def test_free_asking_for_savings_and_a_report_is_offered_the_report_tier() -> None:
    _, completion = _run("gpt-4o, 2M tokens/day: save money and export a report", Tier.FREE)
    assert completion.upgrade is not None
    assert completion.upgrade.required_tier is Tier.MID
    assert completion.upgrade.feature is Tool.REPORT_BUILDER


def test_enterprise_is_never_prompted() -> None:
    _, completion = _run("save money, report and forecast", Tier.ENTERPRISE)
    assert completion.upgrade is None


def test_upgrade_to_dict() -> None:
    upgrade = Upgrade(required_tier=Tier.EARLY, feature=Tool.COST_OPTIMIZER, message="Upgrade.")
    assert upgrade.to_dict() == {
        "required_tier": "early",
        "feature": "cost_optimizer",
        "message": "Upgrade.",
    }


def test_the_prompt_message_names_the_feature_and_plan() -> None:
    _, completion = _run(ASKS[Tool.COST_OPTIMIZER], Tier.FREE)
    assert completion.upgrade is not None
    assert completion.upgrade.message == (
        "Cost optimization is part of the Early plan. Upgrade to Early to unlock it."
    )
