"""The cost optimizer's recommendations and savings, checked against hand-computed values."""

import pytest

from golden_path.agent.prices import PRICES
from golden_path.agent.savings import BATCH_THRESHOLD_TOKENS_PER_DAY, cheapest_alternative
from golden_path.agent.tools import cost_optimizer
from golden_path.agent.workload import Workload

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="early",
        goal="retention",
        value_impact="Savings recommendations are what Early customers pay for; each projected "
        "saving must follow from the prices and the workload, and never double-count.",
        revenue_impact="Credible, reproducible savings justify the subscription; inflated ones "
        "get noticed at the next invoice and cost the account.",
    ),
]

GPT_4O_2M = Workload(models=("gpt-4o",), tokens_per_day=2_000_000)


def _by_kind(result: dict[str, object]) -> dict[str, dict[str, object]]:
    recommendations = result["recommendations"]
    assert isinstance(recommendations, list)
    return {rec["kind"]: rec for rec in recommendations}


def test_gpt_4o_at_two_million_tokens_a_day() -> None:
    # Baseline $8.75/day. gemini-1.5-pro: 1.5M * $1.25 + 0.5M * $5 = $4.375/day -> $131.25/month.
    # Then caching: 25% of $1.875 input = $0.46875/day -> $14.06; trimming: 20% of $2.50 output
    # = $0.50/day -> $15.00; batching: 15% of the remaining $3.40625 = $0.5109375/day -> $15.33.
    result = cost_optimizer(GPT_4O_2M)
    assert [(r["kind"], r["projected_monthly_savings_usd"]) for r in result["recommendations"]] == [
        ("switch_model", 131.25),
        ("batching", 15.33),
        ("output_trimming", 15.0),
        ("prompt_caching", 14.06),
    ]
    assert result["baseline_monthly_cost_usd"] == 262.5
    assert result["total_projected_monthly_savings_usd"] == 175.64
    switch = _by_kind(result)["switch_model"]
    assert switch["to_model"] == "gemini-1.5-pro"
    assert switch["savings_pct"] == 50.0


def test_claude_opus_switches_to_the_cheapest_flagship() -> None:
    # opus: 1.5M * $15 + 0.5M * $75 = $60/day; gemini-1.5-pro $4.375/day; saves $55.625/day.
    result = cost_optimizer(Workload(models=("claude-3-opus",), tokens_per_day=2_000_000))
    switch = _by_kind(result)["switch_model"]
    assert switch["to_model"] == "gemini-1.5-pro"
    assert switch["projected_monthly_savings_usd"] == 1668.75


def test_a_model_alone_in_its_class_gets_no_switch() -> None:
    # o3-mini, 800k/day: input $0.66/day, output $0.88/day; caching 25% of input = $4.95/month,
    # trimming 20% of output = $5.28/month; below the batching threshold.
    result = cost_optimizer(Workload(models=("o3-mini",), tokens_per_day=800_000))
    kinds = _by_kind(result)
    assert list(kinds) == ["output_trimming", "prompt_caching"]
    assert kinds["output_trimming"]["projected_monthly_savings_usd"] == pytest.approx(5.28)
    assert kinds["prompt_caching"]["projected_monthly_savings_usd"] == pytest.approx(4.95)
    assert result["total_projected_monthly_savings_usd"] == pytest.approx(10.23)


@pytest.mark.parametrize(
    ("name", "alternative"),
    [
        ("gpt-4o", "gemini-1.5-pro"),
        ("claude-3-5-sonnet", "gemini-1.5-pro"),
        ("gemini-1.5-pro", None),
        ("gpt-4o-mini", "gemini-1.5-flash"),
        ("gemini-1.5-flash", None),
        ("o3-mini", None),
        ("llama-3.1-70b", None),
    ],
)
def test_cheapest_alternative_stays_in_class(name: str, alternative: str | None) -> None:
    found = cheapest_alternative(PRICES[name], 0.75)
    assert (found.name if found else None) == alternative
    if found is not None:
        assert found.model_class is PRICES[name].model_class


@pytest.mark.parametrize(
    ("tokens_per_day", "batching"),
    [(BATCH_THRESHOLD_TOKENS_PER_DAY - 1, False), (BATCH_THRESHOLD_TOKENS_PER_DAY, True)],
)
def test_batching_only_for_large_volumes(tokens_per_day: int, batching: bool) -> None:
    result = cost_optimizer(Workload(models=("gpt-4o",), tokens_per_day=tokens_per_day))
    assert ("batching" in _by_kind(result)) is batching


def test_all_input_traffic_has_nothing_to_trim() -> None:
    workload = Workload(models=("gpt-4o",), tokens_per_day=2_000_000, input_share=1.0)
    assert "output_trimming" not in _by_kind(cost_optimizer(workload))


def test_without_volume_recommendations_have_shares_but_no_dollars() -> None:
    result = cost_optimizer(Workload(models=("gpt-4o",)))
    kinds = _by_kind(result)
    assert list(kinds) == ["switch_model", "output_trimming", "prompt_caching"]
    assert kinds["switch_model"]["savings_pct"] == 50.0
    assert all(rec["projected_monthly_savings_usd"] is None for rec in kinds.values())
    assert result["total_projected_monthly_savings_usd"] is None
    assert result["baseline_monthly_cost_usd"] is None


def test_no_models_no_recommendations() -> None:
    result = cost_optimizer(Workload(tokens_per_day=2_000_000))
    assert result["recommendations"] == []
    assert result["missing"] == ["models", "requests_per_day"]


def test_zero_volume_saves_nothing() -> None:
    result = cost_optimizer(Workload(models=("gpt-4o",), tokens_per_day=0))
    assert result["recommendations"] == []
    assert result["total_projected_monthly_savings_usd"] == 0.0


def test_recommendations_are_biggest_first_and_sum_to_the_total() -> None:
    workload = Workload(
        models=("claude-3-5-sonnet", "gpt-4o-mini", "o3-mini"), tokens_per_day=30_000_000
    )
    result = cost_optimizer(workload)
    savings = [r["projected_monthly_savings_usd"] for r in result["recommendations"]]
    assert savings == sorted(savings, reverse=True)
    assert sum(savings) == pytest.approx(result["total_projected_monthly_savings_usd"], abs=0.05)
    assert result["total_projected_monthly_savings_usd"] < result["baseline_monthly_cost_usd"]


def test_same_workload_same_recommendations() -> None:
    assert cost_optimizer(GPT_4O_2M) == cost_optimizer(GPT_4O_2M)
