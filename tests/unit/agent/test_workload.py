"""Workload extraction from free text: volumes, periods, request counts, input share."""

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
        value_impact="Users describe their usage in their own words; reading volumes and periods "
        "correctly is what turns a chat message into a spend estimate.",
        revenue_impact="A misread volume (per month taken as per day) is a 30x wrong bill "
        "estimate, the kind of error that makes users leave.",
    ),
]


@pytest.mark.parametrize(
    ("text", "tokens_per_day"),
    [
        ("2M tokens/day", 2_000_000),
        ("2 million tokens per day", 2_000_000),
        ("500k tokens a day", 500_000),
        ("1.5B tokens/month", 50_000_000),
        ("2,000,000 tokens daily", 2_000_000),
        ("7M tokens per week", 1_000_000),
        ("10k tokens/hour", 240_000),
        ("100 tokens per second", 8_640_000),
        ("3m tokens per-day", 3_000_000),
        ("60 million tokens monthly", 2_000_000),
        ("we burn 2M tokens", 2_000_000),
        ("1.5bn tokens a month", 50_000_000),
    ],
)
def test_token_volumes_normalise_to_per_day(text: str, tokens_per_day: int) -> None:
    assert parse_workload(text).tokens_per_day == tokens_per_day


@pytest.mark.parametrize(
    ("text", "requests_per_day"),
    [
        ("10,000 requests per day", 10_000),
        ("300 requests/hour", 7_200),
        ("1.2k calls a day", 1_200),
        ("30k API calls per month", 1_000),
        ("5 queries per minute", 7_200),
    ],
)
def test_request_counts_normalise_to_per_day(text: str, requests_per_day: int) -> None:
    assert parse_workload(text).requests_per_day == requests_per_day


def test_a_full_message() -> None:
    text = "We run GPT-4o and claude 3.5 sonnet: 4M tokens/day over 10,000 requests per day."
    assert parse_workload(text) == Workload(
        models=("gpt-4o", "claude-3-5-sonnet"),
        tokens_per_day=4_000_000,
        requests_per_day=10_000,
        input_share=DEFAULT_INPUT_SHARE,
    )


def test_several_volumes_add_up() -> None:
    assert parse_workload("1M tokens/day on one app, 2M tokens/day on another").tokens_per_day == (
        3_000_000
    )


def test_a_fractional_per_day_volume_rounds_to_the_nearest_token() -> None:
    # 2,000,000 / 7 = 285,714.28...
    assert parse_workload("2M tokens per week").tokens_per_day == 285_714


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("80% input", 0.8),
        ("20% output", 0.8),
        ("60% of tokens are input", 0.6),
        ("1M input tokens and 250k output tokens daily", 0.8),
        ("2M tokens/day", DEFAULT_INPUT_SHARE),
    ],
)
def test_input_share(text: str, share: float) -> None:
    assert parse_workload(text).input_share == pytest.approx(share)


@pytest.mark.parametrize("text", ["", "hello", "how much do I spend?", "tokens per day", "%%%"])
def test_garbage_gives_an_empty_workload(text: str) -> None:
    workload = parse_workload(text)
    assert workload == Workload()
    assert not workload.has_facts


def test_absurd_values_are_clamped() -> None:
    workload = parse_workload("9" * 400 + " tokens/day and " + "9" * 400 + " requests per day")
    assert workload.tokens_per_day == MAX_TOKENS_PER_DAY
    assert workload.requests_per_day == MAX_REQUESTS_PER_DAY


def test_a_sum_of_large_volumes_stays_clamped() -> None:
    text = "900 trillion tokens/day and 900 trillion tokens/day"
    assert parse_workload(text).tokens_per_day == MAX_TOKENS_PER_DAY


@pytest.mark.parametrize(
    ("workload", "has_facts"),
    [
        (Workload(), False),
        (Workload(requests_per_day=100), False),
        (Workload(models=("gpt-4o",)), True),
        (Workload(tokens_per_day=0), True),
    ],
)
def test_has_facts_needs_a_model_or_a_token_volume(workload: Workload, has_facts: bool) -> None:
    assert workload.has_facts is has_facts


def test_parameters_round_trip() -> None:
    workload = parse_workload("gpt-4o at 2M tokens/day, 300 requests/hour, 80% input")
    assert Workload.from_parameters(workload.to_parameters()) == workload


@pytest.mark.parametrize(
    "parameters",
    [
        {"models": "gpt-4o"},
        {"models": ["not-a-model"]},
        {"models": [], "tokens_per_day": -1},
        {"models": [], "tokens_per_day": "2M"},
        {"models": [], "requests_per_day": True},
        {"models": [], "input_share": 1.5},
        {"models": [], "input_share": True},
    ],
)
def test_malformed_parameters_are_rejected(parameters: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        Workload.from_parameters(parameters)
