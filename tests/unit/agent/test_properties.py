"""Properties over arbitrary input: determinism, step-order rules, tools that never raise."""

import datetime
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden_path.agent import (
    PRICES,
    AgentRequest,
    AgentStep,
    Completion,
    DailyUsage,
    SpendOptimizationAgent,
    Thinking,
    ToolCall,
    ToolOutcome,
    Workload,
    advanced_analytics,
    cost_optimizer,
    parse_workload,
    report_builder,
    usage_analyzer,
)
from golden_path.agent.agent import SYSTEM_PROMPT_TOKENS
from golden_path.tiers import TIER_ORDER, Tier, allows

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="Users type anything; whatever the message, the agent must answer the same "
        "way twice and emit a well-formed run without crashing.",
        revenue_impact="Non-deterministic or crashing runs cannot be tested, replayed or trusted, "
        "and every such failure is a broken chat for a paying user.",
    ),
]

WORDS = st.sampled_from(
    [
        "gpt-4o",
        "GPT 4o mini",
        "claude 3.5 sonnet",
        "2M tokens/day",
        "1.5B tokens/month",
        "10,000 requests per day",
        "300 calls/hour",
        "80% input",
        "save",
        "report",
        "forecast",
        "9" * 40,
        "tokens",
        "per",
        "%",
    ]
)
TEXT = st.one_of(st.text(max_size=300), st.lists(WORDS | st.text(max_size=8)).map(" ".join))
HISTORY = st.lists(
    st.builds(
        DailyUsage,
        day=st.dates(),
        runs=st.integers(min_value=0, max_value=10**6),
        input_tokens=st.integers(min_value=0, max_value=10**12),
        output_tokens=st.integers(min_value=0, max_value=10**12),
        cost_usd=st.floats(allow_nan=True, allow_infinity=True),
    ),
    max_size=20,
)
WORKLOADS = st.builds(
    Workload,
    models=st.lists(st.sampled_from([*PRICES, "unknown-model"]), max_size=5).map(tuple),
    tokens_per_day=st.none() | st.integers(),
    requests_per_day=st.none() | st.integers(),
    input_share=st.floats(allow_nan=True, allow_infinity=True),
)


def _check_order(steps: list[AgentStep], request: AgentRequest) -> None:
    assert isinstance(steps[0], Thinking)
    assert isinstance(steps[-1], Completion)
    assert sum(isinstance(step, Completion) for step in steps) == 1
    thinking = [step.step for step in steps if isinstance(step, Thinking)]
    assert thinking == list(range(1, len(thinking) + 1))
    for i, step in enumerate(steps):
        if isinstance(step, ToolCall):
            assert allows(request.tier, step.tool)
            following = steps[i + 1]
            assert isinstance(following, ToolOutcome)
            assert following.tool is step.tool
        if isinstance(step, ToolOutcome):
            previous = steps[i - 1]
            assert isinstance(previous, ToolCall)
            assert previous.tool is step.tool
    tools = [step.tool for step in steps if isinstance(step, ToolCall)]
    assert len(tools) == len(set(tools)) >= 1


@settings(deadline=None)
@given(content=TEXT, tier=st.sampled_from(TIER_ORDER), history=HISTORY)
def test_same_request_same_steps_in_the_right_order(
    content: str, tier: Tier, history: list[DailyUsage]
) -> None:
    request = AgentRequest(content=content, tier=tier, history=tuple(history))
    agent = SpendOptimizationAgent()
    steps = list(agent.steps(request))
    assert steps == list(agent.steps(request))
    _check_order(steps, request)
    completion = steps[-1]
    assert isinstance(completion, Completion)
    json.dumps(completion.result, allow_nan=False)
    assert completion.usage.input_tokens == math.ceil(len(content) / 4) + SYSTEM_PROMPT_TOKENS


@settings(deadline=None)
@given(content=TEXT)
def test_tools_never_raise_on_parsed_text(content: str) -> None:
    workload = parse_workload(content)
    analysis = usage_analyzer(workload)
    optimization = cost_optimizer(workload)
    report = report_builder(workload, analysis, optimization)
    for output in (analysis, optimization, report):
        json.dumps(output, allow_nan=False)


@settings(deadline=None)
@given(workload=WORKLOADS)
def test_tools_never_raise_on_any_workload(workload: Workload) -> None:
    analysis = usage_analyzer(workload)
    optimization = cost_optimizer(workload)
    report = report_builder(workload, analysis, optimization)
    for output in (analysis, optimization, report):
        json.dumps(output, allow_nan=False)


@settings(deadline=None)
@given(history=HISTORY)
def test_analytics_never_raises_and_always_forecasts_seven_days(
    history: list[DailyUsage],
) -> None:
    result = advanced_analytics(history)
    json.dumps(result, allow_nan=False)
    assert len(result["forecast"]) == 7
    assert all(point["cost_usd"] >= 0 for point in result["forecast"])


@settings(deadline=None)
@given(content=TEXT)
def test_parsed_workloads_are_always_in_range(content: str) -> None:
    workload = parse_workload(content)
    assert 0.0 <= workload.input_share <= 1.0
    assert workload.tokens_per_day is None or 0 <= workload.tokens_per_day <= 10**15
    assert list(workload.models) == list(dict.fromkeys(workload.models))
    assert Workload.from_parameters(workload.to_parameters()) == workload


def test_a_long_message_parses() -> None:
    content = ("gpt-4o 2M tokens/day " * 1_000) + ("1" * 5_000)
    workload = parse_workload(content)
    assert workload.tokens_per_day == 2_000_000_000
    assert workload.models == ("gpt-4o",)


def test_history_far_in_the_future_still_forecasts() -> None:
    history = [DailyUsage(datetime.date.max, 1, 1, 1, 5.0)]
    result = advanced_analytics(history)
    assert result["forecast"][0] == {"day_offset": 1, "day": None, "cost_usd": 5.0}
