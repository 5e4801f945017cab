"""The agent's request and the steps it yields; the server turns each step into a protocol event.

``Thinking`` -> agent_thinking, ``ToolCall`` -> tool_executing (with ``approval``:
the run pauses there), ``ToolOutcome`` -> tool_completed, ``Completion`` ->
agent_completed. The caller mints tool-call
ids and measures durations; steps carry no ids, clocks or randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from golden_path.agent.history import DailyUsage
from golden_path.tiers import Tier, Tool


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """One user message, the user's tier, and their recorded daily usage (oldest first).

    ``ask_approval``: a tool priced above the tier's ``approval_above_usd`` is not run
    until the user decides; ``decisions`` holds what the user decided, by tool.
    """

    content: str
    tier: Tier
    history: tuple[DailyUsage, ...] = ()
    ask_approval: bool = False
    decisions: tuple[tuple[Tool, bool], ...] = ()

    def decision(self, tool: Tool) -> bool | None:
        """Whether the user approved ``tool`` (``None``: not asked yet)."""
        return dict(self.decisions).get(tool)


@dataclass(frozen=True, slots=True)
class Approval:
    """Why a tool call waits for the user: its price is above the tier's threshold."""

    cost_usd: float
    limit_usd: float


@dataclass(frozen=True, slots=True)
class Thinking:
    """A reasoning step; ``step`` counts from 1 within a run."""

    reasoning: str
    step: int


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool about to run, with its JSON-serialisable parameters; with ``approval``, a tool
    that waits for the user's decision: the run pauses after this step."""

    tool: Tool
    parameters: dict[str, Any]
    approval: Approval | None = None


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool that ran: its results, or ``{"error": ...}`` with ``success=False``."""

    tool: Tool
    parameters: dict[str, Any]
    results: dict[str, Any]
    success: bool


@dataclass(frozen=True, slots=True)
class Upgrade:
    """The upgrade prompt for a feature the user asked for but their tier lacks."""

    required_tier: Tier
    feature: Tool
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "required_tier": self.required_tier.value,
            "feature": self.feature.value,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """The run's token usage and its cost in USD."""

    input_tokens: int
    output_tokens: int
    cost_usd: float

    def to_dict(self) -> dict[str, int | float]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
        }


@dataclass(frozen=True, slots=True)
class Completion:
    """The last step of every run."""

    final_response: str
    result: dict[str, Any]
    usage: Usage
    upgrade: Upgrade | None


AgentStep: TypeAlias = Thinking | ToolCall | ToolOutcome | Completion

# What the agent calls each tool when it talks to the user.
TOOL_LABELS: dict[Tool, str] = {
    Tool.USAGE_ANALYZER: "Usage analysis",
    Tool.COST_OPTIMIZER: "Cost optimization",
    Tool.REPORT_BUILDER: "Team reporting",
    Tool.ADVANCED_ANALYTICS: "Forecasting and anomaly detection",
}
