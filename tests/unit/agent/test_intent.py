"""Which tools a message asks for."""

import pytest

from golden_path.agent.intent import detect_intent
from golden_path.tiers import Tool

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="expansion",
        value_impact="Intent decides which tools run and which paid feature is offered; a missed "
        "ask means the user gets less than they asked for.",
        revenue_impact="Recognising asks for paid tools is what triggers upgrade prompts, the "
        "main path from a lower tier to a higher one.",
    ),
]


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("How can I optimize this?", Tool.COST_OPTIMIZER),
        ("please optimise my usage", Tool.COST_OPTIMIZER),
        ("what do you recommend", Tool.COST_OPTIMIZER),
        ("I want to save money", Tool.COST_OPTIMIZER),
        ("any savings?", Tool.COST_OPTIMIZER),
        ("is there something cheaper", Tool.COST_OPTIMIZER),
        ("help me reduce cost", Tool.COST_OPTIMIZER),
        ("lower our bill", Tool.COST_OPTIMIZER),
        ("build a report", Tool.REPORT_BUILDER),
        ("give me a summary", Tool.REPORT_BUILDER),
        ("something for my team", Tool.REPORT_BUILDER),
        ("export it", Tool.REPORT_BUILDER),
        ("forecast next month", Tool.ADVANCED_ANALYTICS),
        ("predict my spend", Tool.ADVANCED_ANALYTICS),
        ("what is the trend", Tool.ADVANCED_ANALYTICS),
        ("any anomalies?", Tool.ADVANCED_ANALYTICS),
        ("a cost projection", Tool.ADVANCED_ANALYTICS),
    ],
)
def test_keywords_ask_for_their_tool(text: str, tool: Tool) -> None:
    assert detect_intent(text) == frozenset({Tool.USAGE_ANALYZER, tool})


@pytest.mark.parametrize(
    "text", ["", "what do I spend on gpt-4o?", "hello", "we saved a lot last year"]
)
def test_usage_analysis_alone_when_nothing_else_is_asked(text: str) -> None:
    assert detect_intent(text) == frozenset({Tool.USAGE_ANALYZER})


def test_several_asks_in_one_message() -> None:
    assert detect_intent("Forecast my spend, recommend savings and export a report") == frozenset(
        Tool
    )


def test_matching_ignores_case() -> None:
    assert Tool.ADVANCED_ANALYTICS in detect_intent("FORECAST")
