"""The Markdown spend report."""

import pytest

from golden_path.agent.tools import cost_optimizer, report_builder, usage_analyzer
from golden_path.agent.workload import Workload

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="mid",
        goal="retention",
        value_impact="Mid-tier teams share the report with finance and leadership; it must carry "
        "the same numbers as the analysis, in a table that renders.",
        revenue_impact="Reports that circulate inside a customer's company keep the Mid plan "
        "visible to the people who renew it.",
    ),
]

WORKLOAD = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, requests_per_day=10_000)


def _report(optimized: bool) -> str:
    optimization = cost_optimizer(WORKLOAD) if optimized else None
    result = report_builder(WORKLOAD, usage_analyzer(WORKLOAD), optimization)
    assert result["format"] == "markdown"
    markdown = result["markdown"]
    assert isinstance(markdown, str)
    return markdown


def test_the_cost_table_carries_the_analysis_numbers() -> None:
    markdown = _report(optimized=False)
    assert markdown.startswith("# AI spend report\n")
    assert "| Model | Provider | Tokens/day | Daily cost | Monthly cost |" in markdown
    assert "| gpt-4o | openai | 2,000,000 | $8.75 | $262.50 |" in markdown
    assert "| **Total** |  | 2,000,000 | $8.75 | $262.50 |" in markdown
    assert "- Requests: 10,000 per day" in markdown


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    tables: list[list[str]] = []
    previous_was_row = False
    for line in _report(optimized=True).splitlines():
        is_row = line.startswith("|")
        if is_row and previous_was_row:
            tables[-1].append(line)
        elif is_row:
            tables.append([line])
        previous_was_row = is_row
    assert [len(table) for table in tables] == [4, 6]  # header + separator + rows
    for table in tables:
        assert len({row.count("|") for row in table}) == 1


def test_recommendations_appear_only_with_an_optimization() -> None:
    assert "## Recommendations" not in _report(optimized=False)
    markdown = _report(optimized=True)
    assert "## Recommendations" in markdown
    assert "| 1 | Move gpt-4o traffic to gemini-1.5-pro" in markdown
    assert "**Projected savings:** $175.64 per month" in markdown


def test_an_empty_workload_reports_what_is_missing() -> None:
    empty = Workload()
    markdown = report_builder(empty, usage_analyzer(empty), cost_optimizer(empty))["markdown"]
    assert "- Models: unknown" in markdown
    assert "| **Total** |  | unknown | n/a | n/a |" in markdown
    assert "No savings found for this workload." in markdown
    assert "## Missing facts\n\n- models\n- tokens_per_day\n- requests_per_day" in markdown
