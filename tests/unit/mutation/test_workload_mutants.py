"""Workload parameters at their bounds, and the input share read from token kinds.

Written from mutation testing (see docs/testing.md): the bounds 0 and the maximum of
each tool parameter, the input share when only one side or very small volumes are
stated, and the error messages the agent passes back were not pinned.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from golden_path.agent.workload import (
    DEFAULT_INPUT_SHARE,
    MAX_REQUESTS_PER_DAY,
    MAX_TOKENS_PER_DAY,
    Workload,
    parse_workload,
)

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="The input share decides whether input or output prices dominate an "
        "estimate; misreading 'prompt' or 'completion' tokens skews every figure the user sees.",
        revenue_impact="A skewed split misstates spend by up to the output/input price ratio "
        "(4-5x), which users notice against their invoice and stop trusting the product.",
    ),
]


# --- tool parameters


def test_parameters_without_models_mean_no_models() -> None:
    assert Workload.from_parameters({}) == Workload()


@pytest.mark.parametrize("share", [0, 0.0, 1, 1.0])
def test_the_input_share_bounds_are_accepted(share: float) -> None:
    assert Workload.from_parameters({"input_share": share}).input_share == float(share)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tokens_per_day", 0),
        ("tokens_per_day", MAX_TOKENS_PER_DAY),
        ("requests_per_day", 0),
        ("requests_per_day", MAX_REQUESTS_PER_DAY),
    ],
)
def test_the_count_bounds_are_accepted(key: str, value: int) -> None:
    workload = Workload.from_parameters({key: value})
    assert getattr(workload, key) == value


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"models": ["gpt-5", "gpt-4o", "llama-9"]},
            "unknown models: gpt-5, llama-9",
        ),
        (
            {"input_share": 1.5},
            "input_share must be a number from 0 to 1, got 1.5",
        ),
        (
            {"tokens_per_day": -1},
            f"tokens_per_day must be an integer from 0 to {MAX_TOKENS_PER_DAY}, got -1",
        ),
        (
            {"requests_per_day": "10"},
            f"requests_per_day must be an integer from 0 to {MAX_REQUESTS_PER_DAY}, got '10'",
        ),
    ],
)
def test_a_malformed_parameter_is_named_in_the_error(
    parameters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Workload.from_parameters(parameters)


# --- input share from token kinds


@pytest.mark.parametrize(
    ("text", "share"),
    [
        # input vs output counted exactly, down to single tokens
        ("1 input token and 3 output tokens", 0.25),
        ("1 prompt token and 3 completion tokens", 0.25),
        ("2 input tokens and 1 output token", 0.6667),
        ("1 input token and 2 output tokens", 0.3333),
        # prompt adds to input, completion adds to output
        ("1M input tokens, 1M prompt tokens and 2M output tokens", 0.5),
        ("2M input tokens, 1M output tokens and 1M completion tokens", 0.5),
        # a kind stated twice adds up
        ("1M input tokens, 1M input tokens and 2M output tokens", 0.5),
        # one side alone says nothing about the split
        ("1M input tokens", DEFAULT_INPUT_SHARE),
        ("1M output tokens", DEFAULT_INPUT_SHARE),
    ],
)
def test_the_input_share_follows_the_stated_token_kinds(text: str, share: float) -> None:
    assert parse_workload(text).input_share == share


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("150% input", 1.0),
        ("12.34567% input", 0.1235),
        ("12.34567% output", 0.8765),
    ],
)
def test_a_stated_percentage_is_capped_at_100_and_kept_to_four_decimals(
    text: str, share: float
) -> None:
    assert parse_workload(text).input_share == share
