"""Markdown rendering of a spend report from the usage-analyzer and cost-optimizer outputs."""

from __future__ import annotations

from typing import Any

from golden_path.agent.costing import cents
from golden_path.agent.workload import Workload


def _money(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"${cents(value):,.2f}"
    return "n/a"


def _count(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{round(value):,}"
    return "unknown"


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(
    workload: Workload, analysis: dict[str, Any], optimization: dict[str, Any] | None
) -> str:
    """The Markdown report: workload summary, a cost-by-model table, recommendations if any."""
    lines = [
        "# AI spend report",
        "",
        f"- Models: {', '.join(workload.models) or 'unknown'}",
        f"- Token volume: {_count(workload.tokens_per_day)} tokens/day",
        f"- Requests: {_count(workload.requests_per_day)} per day",
        f"- Input share: {round(workload.input_share * 100, 2):g}%",
        "",
        "## Cost by model",
        "",
    ]
    rows = [
        [
            str(entry["model"]),
            str(entry["provider"]),
            _count(entry["tokens_per_day"]),
            _money(entry["daily_cost_usd"]),
            _money(entry["monthly_cost_usd"]),
        ]
        for entry in analysis["models"]
    ]
    rows.append(
        [
            "**Total**",
            "",
            _count(analysis["tokens_per_day"]),
            _money(analysis["total_daily_cost_usd"]),
            _money(analysis["total_monthly_cost_usd"]),
        ]
    )
    lines += _table(
        ["Model", "Provider", "Tokens/day", "Daily cost", "Monthly cost"],
        ["---", "---", "---:", "---:", "---:"],
        rows,
    )
    if optimization is not None:
        lines += ["", "## Recommendations", ""]
        recommendations = optimization["recommendations"]
        if recommendations:
            lines += _table(
                ["#", "Recommendation", "Monthly savings"],
                ["---:", "---", "---:"],
                [
                    [str(i), str(rec["description"]), _money(rec["projected_monthly_savings_usd"])]
                    for i, rec in enumerate(recommendations, start=1)
                ],
            )
            total = _money(optimization["total_projected_monthly_savings_usd"])
            lines += ["", f"**Projected savings:** {total} per month"]
        else:
            lines.append("No savings found for this workload.")
    if analysis["missing"]:
        lines += ["", "## Missing facts", "", *(f"- {fact}" for fact in analysis["missing"])]
    return "\n".join(lines) + "\n"
