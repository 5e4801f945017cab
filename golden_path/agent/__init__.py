"""A deterministic AI-spend optimization agent: pure functions, no I/O, no clock, no randomness.

``SpendOptimizationAgent(reasoner).steps(AgentRequest(...))`` yields the run's
steps; the reference server turns them into protocol events. See
``golden_path.agent.reasoning`` for plugging a real LLM behind the reasoning.
"""

from golden_path.agent.agent import (
    AGENT_NAME,
    AgentRequest,
    AgentStep,
    Approval,
    Completion,
    SpendOptimizationAgent,
    Thinking,
    ToolCall,
    ToolOutcome,
    Upgrade,
    Usage,
)
from golden_path.agent.history import DailyUsage
from golden_path.agent.intent import detect_intent
from golden_path.agent.prices import PRICES, ModelClass, ModelPrice, find_models
from golden_path.agent.reasoning import Composition, DeterministicReasoner, Plan, Reasoner
from golden_path.agent.tools import (
    advanced_analytics,
    cost_optimizer,
    report_builder,
    usage_analyzer,
)
from golden_path.agent.workload import Workload, parse_workload

__all__ = [
    "AGENT_NAME",
    "PRICES",
    "AgentRequest",
    "AgentStep",
    "Approval",
    "Completion",
    "Composition",
    "DailyUsage",
    "DeterministicReasoner",
    "ModelClass",
    "ModelPrice",
    "Plan",
    "Reasoner",
    "SpendOptimizationAgent",
    "Thinking",
    "ToolCall",
    "ToolOutcome",
    "Upgrade",
    "Usage",
    "Workload",
    "advanced_analytics",
    "cost_optimizer",
    "detect_intent",
    "find_models",
    "parse_workload",
    "report_builder",
    "usage_analyzer",
]
