"""The agent's reasoning step as an interface, and the deterministic template reasoner.

A ``Reasoner`` does two things: ``plan`` reads the request and returns the
thinking texts to show plus the tool calls it wants (with parameters), and
``compose`` turns the tool outcomes into the final response and a structured
result. ``DeterministicReasoner`` does both with regular expressions and
templates: no network, same request -> same plan and answer.

Plugging in a real LLM: write a class with the same two methods and pass it as
``SpendOptimizationAgent(reasoner=MyLLMReasoner(...))``.

* ``plan``: send ``request.content`` and a description of the four tools to the
  model; turn its reply into ``ToolCall(tool, parameters)`` items. Workload
  tools take ``Workload.to_parameters()``-shaped parameters (models from
  ``PRICES``, ``tokens_per_day``, ``requests_per_day``, ``input_share``).
* ``compose``: give the model the ``ToolOutcome.results`` and ask for the answer;
  return it with a structured ``result`` dict.

The agent keeps the guarantees whatever the reasoner says: it enforces the tier
(planned tools above it become the upgrade prompt), always runs
``usage_analyzer``, runs each tool at most once in ``Tool`` order, and turns
malformed parameters into a failed ``ToolOutcome``. Both methods are called
synchronously between steps, so a networked reasoner belongs where the caller
can block (e.g. a worker thread), and it gives up the same-request-same-steps
property unless its replies are pinned. An exception raised by the reasoner
itself propagates to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from golden_path.agent.costing import missing_facts
from golden_path.agent.intent import detect_intent
from golden_path.agent.prices import PRICES
from golden_path.agent.steps import TOOL_LABELS, AgentRequest, ToolCall, ToolOutcome
from golden_path.agent.tools import FORECAST_DAYS
from golden_path.agent.workload import Workload, parse_workload
from golden_path.tiers import Tool, allows, lowest_tier_with

ASK_FOR_FACTS = (
    "To estimate and optimise your AI spend I need a few facts about your usage: "
    "which models you call (e.g. gpt-4o, claude-3-5-sonnet), your token volume "
    '(e.g. "2M tokens/day") and your request counts (e.g. "10,000 requests per day").'
)


@dataclass(frozen=True, slots=True)
class Plan:
    """The thinking texts to show, in order, and the tool calls wanted, in order."""

    thoughts: tuple[str, ...]
    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class Composition:
    """The final answer: text for the user and a JSON-serialisable structured result."""

    final_response: str
    result: dict[str, Any]


class Reasoner(Protocol):
    """Decides what to think and which tools to call, then words the answer."""

    def plan(self, request: AgentRequest) -> Plan: ...

    def compose(self, request: AgentRequest, outcomes: Sequence[ToolOutcome]) -> Composition: ...


class DeterministicReasoner:
    """Plans from keyword intent and parsed workload facts; answers from templates."""

    def plan(self, request: AgentRequest) -> Plan:
        workload = parse_workload(request.content)
        wanted = [tool for tool in Tool if tool in detect_intent(request.content)]
        calls = tuple(ToolCall(tool, _parameters(tool, workload, request)) for tool in wanted)
        return Plan(
            thoughts=(_facts_thought(workload), _plan_thought(wanted, request)), calls=calls
        )

    def compose(self, request: AgentRequest, outcomes: Sequence[ToolOutcome]) -> Composition:
        workload = parse_workload(request.content)
        results = {outcome.tool: outcome.results for outcome in outcomes if outcome.success}
        paragraphs = []
        if not workload.has_facts:
            paragraphs.append(ASK_FOR_FACTS)
        elif Tool.USAGE_ANALYZER in results:
            paragraphs.append(_usage_text(workload, results[Tool.USAGE_ANALYZER]))
        if workload.models and Tool.COST_OPTIMIZER in results:
            paragraphs.append(_savings_text(results[Tool.COST_OPTIMIZER]))
        if Tool.REPORT_BUILDER in results:
            paragraphs.append("The full Markdown report is in the result under report_builder.")
        if Tool.ADVANCED_ANALYTICS in results:
            paragraphs.append(_analytics_text(results[Tool.ADVANCED_ANALYTICS]))
        failed = [outcome for outcome in outcomes if not outcome.success]
        paragraphs += [
            f"The {o.tool.value} step failed ({o.results.get('error', 'unknown error')}); "
            "the rest of this answer still stands."
            for o in failed
        ]
        result = {
            "needs_input": not workload.has_facts,
            "missing": missing_facts(workload),
            "workload": workload.to_parameters(),
            "tools": {tool.value: output for tool, output in results.items()},
            "failed_tools": [o.tool.value for o in failed],
        }
        return Composition(final_response="\n\n".join(paragraphs), result=result)


def _parameters(tool: Tool, workload: Workload, request: AgentRequest) -> dict[str, Any]:
    if tool is Tool.ADVANCED_ANALYTICS:
        return {"days_of_history": len(request.history), "forecast_days": FORECAST_DAYS}
    if tool is Tool.REPORT_BUILDER:
        return {**workload.to_parameters(), "format": "markdown"}
    return workload.to_parameters()


def _facts_thought(workload: Workload) -> str:
    if not workload.has_facts:
        return "The message names no model or token volume yet, so I will ask for them."
    known = []
    if workload.models:
        known.append("models " + ", ".join(workload.models))
    if workload.tokens_per_day is not None:
        known.append(f"{workload.tokens_per_day:,} tokens/day")
    if workload.requests_per_day is not None:
        known.append(f"{workload.requests_per_day:,} requests/day")
    return "From the message I know: " + "; ".join(known) + "."


def _plan_thought(wanted: Sequence[Tool], request: AgentRequest) -> str:
    runnable = [tool.value for tool in wanted if allows(request.tier, tool)]
    text = "Plan: run " + ", ".join(runnable) + "."
    for tool in wanted:
        if not allows(request.tier, tool):
            tier = lowest_tier_with(tool).value
            text += f" {TOOL_LABELS[tool]} is part of the {tier} plan, so I will skip it."
    return text


def _usage_text(workload: Workload, usage: dict[str, Any]) -> str:
    if usage["total_monthly_cost_usd"] is None:
        if not workload.models:
            return (
                f"At {workload.tokens_per_day:,} tokens/day I still need to know which models "
                "you use (e.g. gpt-4o, claude-3-5-sonnet) to price it."
            )
        prices = "; ".join(
            f"{name} ${PRICES[name].input_per_mtok:,.3g} in / "
            f"${PRICES[name].output_per_mtok:,.3g} out per million tokens"
            for name in workload.models
        )
        return (
            f"List prices: {prices}. Tell me your token volume "
            '(e.g. "2M tokens/day") and I will estimate your spend.'
        )
    text = (
        f"At {usage['tokens_per_day']:,} tokens/day your estimated spend is "
        f"${usage['total_daily_cost_usd']:,.2f}/day (${usage['total_monthly_cost_usd']:,.2f}/month)"
    )
    if len(usage["models"]) > 1:
        split = ", ".join(
            f"{m['model']} ${m['monthly_cost_usd']:,.2f}/month" for m in usage["models"]
        )
        text += f", split evenly across models: {split}"
    if usage["cost_per_1k_requests_usd"] is not None:
        text += f"; about ${usage['cost_per_1k_requests_usd']:,.2f} per 1,000 requests"
    return text + "."


def _savings_text(optimization: dict[str, Any]) -> str:
    recommendations = optimization["recommendations"]
    if not recommendations:
        return "I found no savings for this workload."
    top = recommendations[0]
    found = f"I found {len(recommendations)} way{'' if len(recommendations) == 1 else 's'} to save"
    total = optimization["total_projected_monthly_savings_usd"]
    if total is None:
        return (
            f"{found}. The biggest (about "
            f"{top['savings_pct']:g}% of that model's cost): {top['description']}"
        )
    return (
        f"{found} about ${total:,.2f}/month. "
        f"The biggest (${top['projected_monthly_savings_usd']:,.2f}/month): {top['description']}"
    )


def _analytics_text(analytics: dict[str, Any]) -> str:
    if not analytics["days_of_history"]:
        return str(analytics["note"])
    text = (
        f"Next {len(analytics['forecast'])} days: about ${analytics['forecast_total_usd']:,.2f} "
        f"in total, trend {analytics['trend']['direction']}."
    )
    anomalies = analytics["anomalies"]
    if anomalies:
        days = ", ".join(a["day"] for a in anomalies)
        text += f" Unusual spend on {days}."
    return text
