"""The agent's step sequence, usage accounting, failure handling and pluggable reasoner."""

import datetime
import json
import math
from collections.abc import Sequence

import pytest

from golden_path.agent import (
    AGENT_NAME,
    AgentRequest,
    AgentStep,
    Completion,
    Composition,
    DailyUsage,
    DeterministicReasoner,
    Plan,
    SpendOptimizationAgent,
    Thinking,
    ToolCall,
    ToolOutcome,
)
from golden_path.agent.agent import (
    HOUSE_INPUT_USD_PER_MTOK,
    HOUSE_OUTPUT_USD_PER_MTOK,
    SYSTEM_PROMPT_TOKENS,
    usage_for,
)
from golden_path.tiers import Tier, Tool

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="The server turns these steps into the five golden-path events; a step out "
        "of order, a missing completion or a crash breaks the chat for every user.",
        revenue_impact="A chat that hangs or errors on a normal question is the fastest way to "
        "lose users on every tier.",
    ),
]

FULL_ASK = "We run gpt-4o at 2M tokens/day. Save money, report for my team, forecast."


def _steps(
    content: str, tier: Tier = Tier.ENTERPRISE, history: tuple[DailyUsage, ...] = ()
) -> list[AgentStep]:
    return list(SpendOptimizationAgent().steps(AgentRequest(content, tier, history)))


def _completion(steps: list[AgentStep]) -> Completion:
    assert isinstance(steps[-1], Completion)
    return steps[-1]


def test_the_agent_name() -> None:
    assert SpendOptimizationAgent().name == AGENT_NAME == "spend_optimizer"


def test_enterprise_step_sequence() -> None:
    kinds = [type(step).__name__ for step in _steps(FULL_ASK)]
    assert kinds == ["Thinking", "Thinking"] + ["ToolCall", "ToolOutcome"] * 4 + ["Completion"]


def test_thinking_steps_count_from_one() -> None:
    thinking = [s for s in _steps(FULL_ASK) if isinstance(s, Thinking)]
    assert [t.step for t in thinking] == list(range(1, len(thinking) + 1))
    assert "gpt-4o" in thinking[0].reasoning


def test_tools_run_in_tier_order_with_matching_outcomes() -> None:
    steps = _steps(FULL_ASK)
    calls = [s for s in steps if isinstance(s, ToolCall)]
    outcomes = [s for s in steps if isinstance(s, ToolOutcome)]
    assert [c.tool for c in calls] == list(Tool)
    assert [(o.tool, o.parameters) for o in outcomes] == [(c.tool, c.parameters) for c in calls]
    assert all(o.success for o in outcomes)


def test_the_report_includes_the_optimization() -> None:
    outcomes = {s.tool: s for s in _steps(FULL_ASK) if isinstance(s, ToolOutcome)}
    assert "**Projected savings:** $175.64" in outcomes[Tool.REPORT_BUILDER].results["markdown"]


def test_the_final_response_summarises_the_tools() -> None:
    completion = _completion(_steps(FULL_ASK))
    assert "$8.75/day ($262.50/month)" in completion.final_response
    assert "about $175.64/month" in completion.final_response
    assert completion.result["needs_input"] is False
    assert set(completion.result["tools"]) == {tool.value for tool in Tool}
    assert completion.result["failed_tools"] == []


def test_no_facts_asks_for_them_in_a_normal_completion() -> None:
    steps = _steps("hi, can you help me?", Tier.FREE)
    completion = _completion(steps)
    for fact in ("models", "token volume", "request counts"):
        assert fact in completion.final_response
    assert completion.result["needs_input"] is True
    assert completion.result["missing"] == ["models", "tokens_per_day", "requests_per_day"]
    assert [s.tool for s in steps if isinstance(s, ToolCall)] == [Tool.USAGE_ANALYZER]


def test_models_without_volume_gets_list_prices_and_a_question() -> None:
    completion = _completion(_steps("we use claude 3.5 haiku", Tier.FREE))
    assert "claude-3-5-haiku $0.8 in / $4 out per million tokens" in completion.final_response
    assert "token volume" in completion.final_response


def test_history_feeds_the_forecast() -> None:
    history = tuple(
        DailyUsage(datetime.date(2024, 1, 1) + datetime.timedelta(days=i), 1, 1, 1, 10.0 + i)
        for i in range(5)
    )
    steps = _steps("forecast my spend", Tier.ENTERPRISE, history=history)
    [outcome] = [
        s for s in steps if isinstance(s, ToolOutcome) and s.tool is Tool.ADVANCED_ANALYTICS
    ]
    assert outcome.parameters == {"days_of_history": 5, "forecast_days": 7}
    assert outcome.results["forecast"][0]["cost_usd"] == 15.0
    assert "Next 7 days: about $126.00 in total, trend rising." in _completion(steps).final_response


def test_usage_is_computed_from_text_lengths() -> None:
    content = "gpt-4o at 2M tokens/day"  # 23 characters -> 6 tokens
    completion = _completion(_steps(content))
    expected_in = 6 + SYSTEM_PROMPT_TOKENS
    expected_out = math.ceil(len(completion.final_response) / 4)
    expected_cost = round(
        (expected_in * HOUSE_INPUT_USD_PER_MTOK + expected_out * HOUSE_OUTPUT_USD_PER_MTOK) / 1e6, 6
    )
    assert completion.usage.to_dict() == {
        "input_tokens": expected_in,
        "output_tokens": expected_out,
        "cost_usd": expected_cost,
    }


def test_usage_for_by_hand() -> None:
    # 8 chars -> 2 tokens (+400); 5 chars -> 2 tokens; (402 * 3 + 2 * 15) / 1e6 = 0.001236.
    usage = usage_for("12345678", "12345")
    assert (usage.input_tokens, usage.output_tokens, usage.cost_usd) == (402, 2, 0.001236)


def test_every_payload_is_strict_json() -> None:
    for step in _steps(FULL_ASK):
        if isinstance(step, ToolCall | ToolOutcome):
            json.dumps(step.parameters, allow_nan=False)
        if isinstance(step, ToolOutcome):
            json.dumps(step.results, allow_nan=False)
        if isinstance(step, Completion):
            json.dumps(step.result, allow_nan=False)
            json.dumps(step.usage.to_dict(), allow_nan=False)


def test_steps_are_lazy_generators() -> None:
    iterator = SpendOptimizationAgent().steps(AgentRequest(FULL_ASK, Tier.ENTERPRISE))
    assert isinstance(next(iterator), Thinking)


class ScriptedReasoner:
    """A reasoner driven by a test: a fixed plan, and a composition that lists what ran."""

    def __init__(self, thoughts: tuple[str, ...], calls: tuple[ToolCall, ...]) -> None:
        self.thoughts = thoughts
        self.calls = calls
        self.seen: list[ToolOutcome] = []

    def plan(self, request: AgentRequest) -> Plan:
        return Plan(thoughts=self.thoughts, calls=self.calls)

    def compose(self, request: AgentRequest, outcomes: Sequence[ToolOutcome]) -> Composition:
        self.seen = list(outcomes)
        ran = [f"{o.tool.value}:{'ok' if o.success else 'failed'}" for o in outcomes]
        return Composition(final_response=" ".join(ran), result={"ran": ran})


GOOD = {"models": ["gpt-4o"], "tokens_per_day": 2_000_000}


def _scripted(reasoner: ScriptedReasoner, tier: Tier = Tier.ENTERPRISE) -> list[AgentStep]:
    return list(SpendOptimizationAgent(reasoner).steps(AgentRequest("anything", tier)))


def test_a_plugged_in_reasoner_drives_the_run() -> None:
    reasoner = ScriptedReasoner(
        ("Look at the numbers.",), (ToolCall(Tool.USAGE_ANALYZER, dict(GOOD)),)
    )
    steps = _scripted(reasoner)
    assert steps[0] == Thinking("Look at the numbers.", 1)
    completion = _completion(steps)
    assert completion.final_response == "usage_analyzer:ok"
    assert completion.result == {"ran": ["usage_analyzer:ok"]}
    assert reasoner.seen[0].results["total_daily_cost_usd"] == 8.75


def test_a_tool_that_raises_fails_its_outcome_and_the_run_completes() -> None:
    reasoner = ScriptedReasoner(
        ("Try it.",),
        (
            ToolCall(Tool.USAGE_ANALYZER, {"models": 5}),
            ToolCall(Tool.COST_OPTIMIZER, dict(GOOD)),
        ),
    )
    steps = _scripted(reasoner)
    outcomes = [s for s in steps if isinstance(s, ToolOutcome)]
    assert [o.success for o in outcomes] == [False, True]
    assert outcomes[0].results == {
        "error": "TypeError: models must be a list of model names, got 5"
    }
    assert _completion(steps).final_response == "usage_analyzer:failed cost_optimizer:ok"


def test_the_deterministic_reasoner_reports_a_failed_tool() -> None:
    request = AgentRequest("gpt-4o at 2M tokens/day", Tier.FREE)
    failed = ToolOutcome(Tool.USAGE_ANALYZER, {}, {"error": "boom"}, success=False)
    composition = DeterministicReasoner().compose(request, [failed])
    assert "The usage_analyzer step failed (boom)" in composition.final_response
    assert composition.result["failed_tools"] == ["usage_analyzer"]


def test_the_agent_keeps_its_guarantees_whatever_the_plan() -> None:
    # No thoughts, no usage call, a duplicate, reverse order and a tool above the tier.
    reasoner = ScriptedReasoner(
        (),
        (
            ToolCall(Tool.ADVANCED_ANALYTICS, {}),
            ToolCall(Tool.COST_OPTIMIZER, dict(GOOD)),
            ToolCall(Tool.COST_OPTIMIZER, {"models": ["gpt-4o-mini"]}),
        ),
    )
    steps = _scripted(reasoner, Tier.EARLY)
    assert isinstance(steps[0], Thinking)
    assert steps[0].step == 1
    calls = [s for s in steps if isinstance(s, ToolCall)]
    assert [c.tool for c in calls] == [Tool.USAGE_ANALYZER, Tool.COST_OPTIMIZER]
    assert calls[1].parameters == GOOD
    upgrade = _completion(steps).upgrade
    assert upgrade is not None
    assert (upgrade.required_tier, upgrade.feature) == (Tier.ENTERPRISE, Tool.ADVANCED_ANALYTICS)
