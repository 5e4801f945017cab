"""What every family of AG-UI sequence rules shares: the run's state and the reporting.

:class:`CheckerBase` is the base of the rule families (:mod:`~golden_path.testing.agui.rules`,
``rules_state``, ``rules_outcome``, ``rules_legacy``) that make up ``Checker``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from golden_path.testing.agui.chunks import Item
from golden_path.testing.violation import Violation


@dataclass
class RunState:
    start: Item | None = None
    messages: dict[str, Item] = field(default_factory=dict)
    tool_calls: dict[str, Item] = field(default_factory=dict)
    steps: dict[tuple[object, str], Item] = field(default_factory=dict)
    reasoning_spans: dict[str, Item] = field(default_factory=dict)
    reasoning_messages: dict[str, Item] = field(default_factory=dict)
    thinking_step: Item | None = None
    thinking_message: Item | None = None
    subagents: dict[str, Item] = field(default_factory=dict)
    closed_subagents: set[str] = field(default_factory=set)
    # calls this run started, in order, and those it answered (for pendingToolCallIds)
    run_calls: list[str] = field(default_factory=list)
    answered_calls: set[str] = field(default_factory=set)


class CheckerBase:
    def __init__(
        self,
        out: list[Violation],
        *,
        thread_id: str | None,
        run_id: str | None,
        non_empty_deltas: bool,
        require_protocol_version: bool = False,
        prior_tool_calls: Collection[str] = (),
    ) -> None:
        self.out = out
        self.thread_id = thread_id
        self.run_id = run_id
        self.non_empty_deltas = non_empty_deltas
        self.state = RunState()
        self.status: str | None = None  # None (no event yet), active, finished, errored
        self.terminal: Item | None = None
        # across the stream (and the thread's earlier runs the caller names), for TOOL_CALL_RESULT
        self.started_calls: set[str] = set(prior_tool_calls)
        self.thread: str | None = None  # the threadId of the stream's first run
        self.require_protocol_version = require_protocol_version
        # what the stream built: its state (once a snapshot or the input gave one), activities
        self.has_state = False
        self.state_doc: Any = None
        self.activities: dict[str, Any] = {}

    # -- reporting

    def run_label(self) -> str | None:
        start = self.state.start
        if start is not None and isinstance(start.event.get("runId"), str):
            return str(start.event["runId"])
        return None

    def report(self, rule: str, message: str, item: Item | None) -> None:
        run = self.run_label()
        prefix = f"run {run}: " if run else ""
        index = item.index if item is not None else None
        self.out.append(Violation(rule, prefix + message, index, run))

    # paired entities

    def _open(self, item: Item, entities: dict[str, Item], key: str, rule: str, what: str) -> None:
        if key in entities:
            self.report(
                rule,
                f"{item.type} {key} {item.at()} while {what} {key} "
                f"({entities[key].ref()}) is still open",
                item,
            )
            return
        entities[key] = item

    def _continue(
        self,
        item: Item,
        entities: dict[str, Item],
        key: str,
        rule: str,
        opener: str,
        close: bool,
    ) -> None:
        if key not in entities:
            self.report(rule, f"{item.type} {key} without {opener} {item.at()}", item)
            return
        self.check_owner(item, entities[key], key)
        if close:
            del entities[key]

    def _check_delta(self, item: Item, key: str) -> None:
        if self.non_empty_deltas and item.event.get("delta") == "":
            self.report("empty_delta", f"{item.type} {key} has an empty delta {item.at()}", item)

    def check_owner(self, item: Item, opener: Item, key: str) -> None:
        """A continuation naming a subagentRunId must name its opener's (AG-UI 1.1)."""
        if "subagentRunId" not in item.event:
            return
        mine: Any = item.event["subagentRunId"]
        theirs: Any = opener.event.get("subagentRunId")
        if mine != theirs:
            self.report(
                "subagent_mismatch",
                f"{item.type} {key} {item.at()} names subagentRunId {mine!r}, which does not "
                f"match its opener's {theirs!r} ({opener.ref()})",
                item,
            )
