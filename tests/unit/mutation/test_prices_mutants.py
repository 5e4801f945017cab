"""How one model name becomes the pattern that finds it in free text.

Written from mutation testing (see docs/testing.md). The patterns are built once, when
``golden_path.agent.prices`` is imported, so mutmut (which switches mutants on inside
already-imported modules) can only observe the builder when a test calls it.
"""

from __future__ import annotations

import pytest

from golden_path.agent import prices

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Users write 'GPT 4o', 'claude 3.5 sonnet' or 'gemini_1.5_flash'; "
        "a model the matcher misses is a question the agent answers without prices.",
        revenue_impact="An answer that ignores the model the user named reads as the product "
        "not understanding them; it costs the first impression that drives conversion.",
    ),
]


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("gpt-4o", ["gpt-4o", "GPT-4o", "gpt 4o", "gpt4o", "gpt_4o", "gpt.4o", "Gpt - 4O"]),
        (
            "claude-3-5-sonnet",
            ["claude-3-5-sonnet", "Claude 3.5 Sonnet", "claude3.5sonnet", "CLAUDE_3_5_SONNET"],
        ),
        ("gemini-1.5-flash", ["gemini-1.5-flash", "Gemini 1 5 Flash", "gemini-1-5-flash"]),
    ],
)
def test_a_name_pattern_matches_case_and_separator_variants(name: str, variants: list[str]) -> None:
    pattern = prices._name_pattern(name)
    for variant in variants:
        match = pattern.search(f"we use {variant} daily")
        assert match is not None, variant
        assert match.group() == variant


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gpt-4o", "xgpt-4o"),
        ("gpt-4o", "gpt-4o1"),
        ("gpt-4o", "gpt-4"),
        ("o3-mini", "o3-mini2"),
        ("gemini-1.5-pro", "gemini-1x5-pro"),
    ],
)
def test_a_name_pattern_needs_the_whole_name_standing_alone(name: str, text: str) -> None:
    assert prices._name_pattern(name).search(text) is None


def test_every_priced_model_is_found_by_its_own_pattern() -> None:
    for name in prices.PRICES:
        assert prices._name_pattern(name).fullmatch(name.upper()) is not None, name
