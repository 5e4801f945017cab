"""Approval (protocol §12.1): a request that asks it stops at the first tool priced above the
tier's threshold, and asked again with the user's decision goes on with the same steps."""

from __future__ import annotations

import dataclasses

import pytest

from golden_path.agent import (
    AgentRequest,
    Approval,
    Completion,
    SpendOptimizationAgent,
    ToolCall,
    ToolOutcome,
)
from golden_path.agent.agent import DENIED
from golden_path.agent.steps import AgentStep
from golden_path.tiers import TOOL_CALL_USD, Tier, Tool

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a costly tool runs only after the user agrees, and the run goes on "
        "with exactly the work it paused, not a different plan",
        revenue_impact="a tool run without the approval the plan promises, or run twice, "
        "spends the customer's money against their wishes",
    ),
]

FORECAST = "gpt-4o at 2M tokens/day: forecast next week and flag anomalies"


def steps(request: AgentRequest) -> list[AgentStep]:
    return list(SpendOptimizationAgent().steps(request))


def asking(tier: Tier = Tier.ENTERPRISE) -> AgentRequest:
    return AgentRequest(FORECAST, tier, ask_approval=True)


def test_a_request_that_asks_approval_stops_at_the_costly_tool_call() -> None:
    paused = steps(asking())
    last = paused[-1]
    assert isinstance(last, ToolCall)
    assert last.tool is Tool.ADVANCED_ANALYTICS
    limit = Tier.ENTERPRISE.limits.approval_above_usd
    assert last.approval == Approval(TOOL_CALL_USD[Tool.ADVANCED_ANALYTICS], limit or 0.0)
    assert not any(isinstance(s, Completion) for s in paused)
    assert not any(isinstance(s, ToolOutcome) and s.tool is last.tool for s in paused)


def test_without_asking_the_same_request_runs_to_its_end() -> None:
    whole = steps(dataclasses.replace(asking(), ask_approval=False))
    assert isinstance(whole[-1], Completion)
    assert all(s.approval is None for s in whole if isinstance(s, ToolCall))


def test_an_approved_request_repeats_the_steps_before_the_pause_then_runs_the_tool() -> None:
    paused = steps(asking())
    approved = steps(dataclasses.replace(asking(), decisions=((Tool.ADVANCED_ANALYTICS, True),)))
    assert approved[: len(paused) - 1] == paused[:-1]
    assert approved[len(paused) - 1] == dataclasses.replace(paused[-1], approval=None)
    outcome = approved[len(paused)]
    assert isinstance(outcome, ToolOutcome)
    assert outcome.success
    assert outcome.tool is Tool.ADVANCED_ANALYTICS
    assert approved[-1] == steps(dataclasses.replace(asking(), ask_approval=False))[-1]


def test_a_denied_tool_does_not_run_and_the_answer_says_so() -> None:
    denied = steps(dataclasses.replace(asking(), decisions=((Tool.ADVANCED_ANALYTICS, False),)))
    (outcome,) = [
        s for s in denied if isinstance(s, ToolOutcome) and s.tool is Tool.ADVANCED_ANALYTICS
    ]
    assert outcome.success is False
    assert outcome.results == {"error": DENIED}
    completion = denied[-1]
    assert isinstance(completion, Completion)
    assert completion.result["failed_tools"] == [Tool.ADVANCED_ANALYTICS.value]


@pytest.mark.parametrize("tier", [Tier.FREE, Tier.EARLY])
def test_a_tier_without_a_threshold_never_stops(tier: Tier) -> None:
    assert isinstance(steps(asking(tier))[-1], Completion)
