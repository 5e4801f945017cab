"""The spend-optimization agent: the public entry point the reference server drives.

``SpendOptimizationAgent.steps`` yields, in order: one or more ``Thinking``; for
each planned tool the tier allows (``usage_analyzer`` always, first) a
``ToolCall`` then its ``ToolOutcome``; exactly one ``Completion``. A request that
asks for approval (``AgentRequest.ask_approval``) stops instead at the
``ToolCall`` of the first tool priced above the tier's threshold that the user
has not decided on, that ``ToolCall`` carrying its ``Approval``; asked again
with the user's decision it yields the same steps up to there, then the tool's
outcome (a denied tool's is a failed outcome: it does not run) and the rest. Tools the
request asks for above the user's tier are not run; the ``Completion`` carries an
``Upgrade`` for the most valuable of them (the one whose cheapest tier is
highest). The agent is pure: same request, equal steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, assert_never

from golden_path.agent import tools
from golden_path.agent.reasoning import DeterministicReasoner, Reasoner
from golden_path.agent.steps import (
    TOOL_LABELS,
    AgentRequest,
    AgentStep,
    Approval,
    Completion,
    Thinking,
    ToolCall,
    ToolOutcome,
    Upgrade,
    Usage,
)
from golden_path.agent.workload import Workload, parse_workload
from golden_path.tiers import (
    TOOL_CALL_USD,
    Tier,
    Tool,
    allows,
    lowest_tier_with,
    needs_approval,
)

__all__ = [
    "AGENT_NAME",
    "HOUSE_INPUT_USD_PER_MTOK",
    "HOUSE_OUTPUT_USD_PER_MTOK",
    "SYSTEM_PROMPT_TOKENS",
    "AgentRequest",
    "AgentStep",
    "Approval",
    "Completion",
    "SpendOptimizationAgent",
    "Thinking",
    "ToolCall",
    "ToolOutcome",
    "Upgrade",
    "Usage",
    "usage_for",
]

AGENT_NAME = "spend_optimizer"
SYSTEM_PROMPT_TOKENS = 400  # fixed prompt overhead counted on every run's input
HOUSE_INPUT_USD_PER_MTOK = 3.0  # what the house charges per million input tokens
HOUSE_OUTPUT_USD_PER_MTOK = 15.0  # ... and per million output tokens
DENIED = "not run: the user did not approve it"
_FALLBACK_THOUGHT = "Working out which tools answer this request."
_TOOL_ORDER = {tool: i for i, tool in enumerate(Tool)}


class SpendOptimizationAgent:
    """Analyses AI spend and recommends savings, within what the user's tier allows."""

    name: str = AGENT_NAME

    def __init__(self, reasoner: Reasoner | None = None) -> None:
        self._reasoner: Reasoner = reasoner if reasoner is not None else DeterministicReasoner()

    def steps(self, request: AgentRequest) -> Iterator[AgentStep]:
        """The run's steps, lazily: each tool runs when its ``ToolOutcome`` is requested."""
        plan = self._reasoner.plan(request)
        for number, text in enumerate(plan.thoughts or (_FALLBACK_THOUGHT,), start=1):
            yield Thinking(reasoning=text, step=number)
        runnable, denied = _schedule(plan.calls, request)
        outcomes: list[ToolOutcome] = []
        for call in runnable:
            approval = _approval(call, request)
            if approval is not None:
                yield ToolCall(call.tool, call.parameters, approval)
                return  # paused: the user decides, then the run goes on from here
            yield call
            if request.decision(call.tool) is False:
                outcome = ToolOutcome(call.tool, call.parameters, {"error": DENIED}, False)
            else:
                outcome = _execute(call, request, outcomes)
            outcomes.append(outcome)
            yield outcome
        composition = self._reasoner.compose(request, outcomes)
        yield Completion(
            final_response=composition.final_response,
            result=composition.result,
            usage=usage_for(request.content, composition.final_response),
            upgrade=_upgrade(denied),
        )


def usage_for(content: str, final_response: str) -> Usage:
    """Deterministic usage: about four characters a token plus the system-prompt overhead."""
    input_tokens = math.ceil(len(content) / 4) + SYSTEM_PROMPT_TOKENS
    output_tokens = math.ceil(len(final_response) / 4)
    cost = (
        input_tokens * HOUSE_INPUT_USD_PER_MTOK + output_tokens * HOUSE_OUTPUT_USD_PER_MTOK
    ) / 1_000_000
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=round(cost, 6))


def _schedule(
    calls: Sequence[ToolCall], request: AgentRequest
) -> tuple[list[ToolCall], list[Tool]]:
    """Allowed calls (one per tool, usage first, in ``Tool`` order) and the denied tools."""
    first: dict[Tool, ToolCall] = {}
    for call in calls:
        first.setdefault(call.tool, call)
    if Tool.USAGE_ANALYZER not in first:
        workload = parse_workload(request.content)
        first[Tool.USAGE_ANALYZER] = ToolCall(Tool.USAGE_ANALYZER, workload.to_parameters())
    ordered = sorted(first.values(), key=lambda call: _TOOL_ORDER[call.tool])
    runnable = [call for call in ordered if allows(request.tier, call.tool)]
    denied = [call.tool for call in ordered if not allows(request.tier, call.tool)]
    return runnable, denied


def _approval(call: ToolCall, request: AgentRequest) -> Approval | None:
    """The ``Approval`` ``call`` waits for, or ``None`` if it may run (or was decided)."""
    if not request.ask_approval or not needs_approval(request.tier, call.tool):
        return None
    if request.decision(call.tool) is not None:
        return None
    limit = request.tier.limits.approval_above_usd
    assert limit is not None  # needs_approval says there is one
    return Approval(cost_usd=TOOL_CALL_USD[call.tool], limit_usd=limit)


def _execute(call: ToolCall, request: AgentRequest, done: Sequence[ToolOutcome]) -> ToolOutcome:
    """Run one tool; any exception becomes a failed outcome carrying the error."""
    try:
        results = _dispatch(call, request, done)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        return ToolOutcome(call.tool, call.parameters, {"error": error}, success=False)
    return ToolOutcome(call.tool, call.parameters, results, success=True)


def _dispatch(call: ToolCall, request: AgentRequest, done: Sequence[ToolOutcome]) -> dict[str, Any]:
    earlier = {outcome.tool: outcome.results for outcome in done if outcome.success}
    match call.tool:
        case Tool.USAGE_ANALYZER:
            return tools.usage_analyzer(Workload.from_parameters(call.parameters))
        case Tool.COST_OPTIMIZER:
            return tools.cost_optimizer(Workload.from_parameters(call.parameters))
        case Tool.REPORT_BUILDER:
            workload = Workload.from_parameters(call.parameters)
            analysis = earlier.get(Tool.USAGE_ANALYZER) or tools.usage_analyzer(workload)
            return tools.report_builder(workload, analysis, earlier.get(Tool.COST_OPTIMIZER))
        case Tool.ADVANCED_ANALYTICS:
            return tools.advanced_analytics(request.history)
        case _:
            assert_never(call.tool)


def _upgrade(denied: Sequence[Tool]) -> Upgrade | None:
    """The upgrade prompt for the most valuable denied tool, or ``None``."""
    if not denied:
        return None
    tool = max(denied, key=lambda t: (lowest_tier_with(t).rank, _TOOL_ORDER[t]))
    tier: Tier = lowest_tier_with(tool)
    message = (
        f"{TOOL_LABELS[tool]} is part of the {tier.value.capitalize()} plan. "
        f"Upgrade to {tier.value.capitalize()} to unlock it."
    )
    return Upgrade(required_tier=tier, feature=tool, message=message)
