"""The spend report's exact Markdown: headings, table alignment, figures and spacing.

Written from mutation testing (see docs/testing.md): the report tests elsewhere look
for fragments, so a changed heading, separator row or blank line went unnoticed.
"""

from __future__ import annotations

import pytest

from golden_path.agent.tools import cost_optimizer, report_builder, usage_analyzer
from golden_path.agent.workload import Workload

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="mid",
        goal="retention",
        value_impact="Mid-tier teams paste the report into documents for finance; a broken "
        "table separator or a missing blank line renders as a wall of pipes.",
        revenue_impact="A report that renders cleanly in the customer's own tools keeps the Mid "
        "plan visible to the people who renew it.",
    ),
]

# gpt-4o, 2M tokens a day, 75% input: $8.75 a day, $262.50 a month; the savings are
# hand-checked in tests/unit/agent/test_cost_optimizer.py.
WORKLOAD = Workload(models=("gpt-4o",), tokens_per_day=2_000_000)

FULL_REPORT = """\
# AI spend report

- Models: gpt-4o
- Token volume: 2,000,000 tokens/day
- Requests: unknown per day
- Input share: 75%

## Cost by model

| Model | Provider | Tokens/day | Daily cost | Monthly cost |
|---|---|---:|---:|---:|
| gpt-4o | openai | 2,000,000 | $8.75 | $262.50 |
| **Total** |  | 2,000,000 | $8.75 | $262.50 |

## Recommendations

| # | Recommendation | Monthly savings |
|---:|---|---:|
| 1 | Move gpt-4o traffic to gemini-1.5-pro (google), a cheaper flagship model. | $131.25 |
| 2 | Send non-interactive gpt-4o work through a batch API. | $15.33 |
| 3 | Trim gpt-4o output: set max_tokens and ask for terser formats. | $15.00 |
| 4 | Cache the repeated prompt prefix of gpt-4o requests. | $14.06 |

**Projected savings:** $175.64 per month

## Missing facts

- requests_per_day
"""


def _markdown(workload: Workload, *, optimized: bool = True) -> str:
    optimization = cost_optimizer(workload) if optimized else None
    markdown = report_builder(workload, usage_analyzer(workload), optimization)["markdown"]
    assert isinstance(markdown, str)
    return markdown


def test_the_full_report_is_exactly_this_markdown() -> None:
    assert _markdown(WORKLOAD) == FULL_REPORT


def test_a_report_without_savings_says_so_between_blank_lines() -> None:
    markdown = _markdown(Workload())
    assert "\n\n## Recommendations\n\nNo savings found for this workload.\n\n" in markdown
    assert markdown.endswith(
        "\n\n## Missing facts\n\n- models\n- tokens_per_day\n- requests_per_day\n"
    )


def test_a_report_with_nothing_missing_ends_after_the_last_table() -> None:
    workload = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, requests_per_day=1_000)
    markdown = _markdown(workload, optimized=False)
    assert markdown.endswith("| **Total** |  | 2,000,000 | $8.75 | $262.50 |\n")
    assert "Missing facts" not in markdown


def test_several_models_are_listed_comma_separated() -> None:
    workload = Workload(models=("gpt-4o", "claude-3-5-haiku"))
    assert "\n- Models: gpt-4o, claude-3-5-haiku\n" in _markdown(workload, optimized=False)


@pytest.mark.parametrize(
    ("share", "line"),
    [
        (0.75, "- Input share: 75%"),
        (0.12345, "- Input share: 12.35%"),
        (0.5, "- Input share: 50%"),
        (1.0, "- Input share: 100%"),
    ],
)
def test_the_input_share_is_a_percentage_with_at_most_two_decimals(share: float, line: str) -> None:
    workload = Workload(models=("gpt-4o",), input_share=share)
    assert f"\n{line}\n" in _markdown(workload, optimized=False)
