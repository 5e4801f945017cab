"""AG-UI's sequence rules over the expanded stream: the clients' verifier, and golden-path's own.

The rules of ``verifyEvents`` in npm ``@ag-ui/client`` 1.0, plus: a
``TOOL_CALL_RESULT`` answers a started call, and one run keeps one
``threadId``/``runId``. :mod:`golden_path.testing.agui.contract` documents each rule.
"""

from __future__ import annotations

from ag_ui.core import EventType

from golden_path.testing.agui.chunks import Item
from golden_path.testing.agui.rules_base import RunState
from golden_path.testing.agui.rules_legacy import LegacyThinkingRules
from golden_path.testing.agui.rules_outcome import OutcomeRules
from golden_path.testing.agui.rules_state import StateRules

_T = EventType


class Checker(StateRules, OutcomeRules, LegacyThinkingRules):
    """The whole state machine: lifecycle and paired entities here, the families mixed in."""

    # -- the state machine

    def feed(self, item: Item) -> None:
        kind = item.type
        T = _T
        if self.status == "errored" and kind != T.RUN_STARTED.value:
            assert self.terminal is not None
            self.report(
                "after_terminal",
                f"{kind} {item.at()} after RUN_ERROR (event #{self.terminal.index})",
                item,
            )
            return
        if self.status == "finished" and kind not in (T.RUN_STARTED.value, T.RUN_ERROR.value):
            assert self.terminal is not None
            self.report(
                "after_terminal",
                f"{kind} {item.at()} after RUN_FINISHED (event #{self.terminal.index})",
                item,
            )
            return
        if self.status is None:
            self.status = "active"
            if kind not in (T.RUN_STARTED.value, T.RUN_ERROR.value):
                self.report(
                    "run_not_started",
                    f"the first event is {kind}, not RUN_STARTED {item.at()}",
                    item,
                )
        elif kind == T.RUN_STARTED.value and self.status == "active":
            self.report(
                "run_already_active",
                f"RUN_STARTED {item.at()} while the run started at event "
                f"#{self.state.start.index if self.state.start else 0} is still active",
                item,
            )
            return
        handler = getattr(self, f"on_{kind.lower()}", None)
        if handler is not None:
            handler(item)

    def finish(self, require_complete: bool, last: Item | None) -> None:
        if last is None:
            if require_complete:
                self.report("run_not_started", "the stream has no events (no RUN_STARTED)", None)
            return
        if require_complete and self.status == "active":
            self.report(
                "no_terminal",
                f"no RUN_FINISHED or RUN_ERROR after the last event {last.type} {last.at()}",
                last,
            )

    # run lifecycle

    def on_run_started(self, item: Item) -> None:
        self.state = RunState(start=item)
        self.status = "active"
        self.check_run_start(item)
        self.seed_state(item)
        for name, expected in (("threadId", self.thread_id), ("runId", self.run_id)):
            given = item.event.get(name)
            if expected is not None and given != expected:
                self.report(
                    "inconsistent_id",
                    f"RUN_STARTED {item.at()} names {name} {given!r}, but the run asked "
                    f"for was {expected!r}",
                    item,
                )

    def on_run_finished(self, item: Item) -> None:
        state = self.state
        start = state.start
        if start is not None:
            for name in ("threadId", "runId"):
                if item.event.get(name) != start.event.get(name):
                    self.report(
                        "inconsistent_id",
                        f"RUN_FINISHED {item.at()} names {name} {item.event.get(name)!r}, but "
                        f"its RUN_STARTED (event #{start.index}) named {start.event.get(name)!r}",
                        item,
                    )
        at = f"before RUN_FINISHED {item.at()}"
        for (_, name), opened in state.steps.items():
            self.report(
                "step_not_finished", f"step {name!r} ({opened.ref()}) not finished {at}", item
            )
        for message_id, opened in state.messages.items():
            self.report(
                "message_not_ended",
                f"text message {message_id} ({opened.ref()}) not ended {at}",
                item,
            )
        for what, entities in (
            ("reasoning message", state.reasoning_messages),
            ("reasoning span", state.reasoning_spans),
        ):
            for entity_id, opened in entities.items():
                self.report(
                    "reasoning_not_ended",
                    f"{what} {entity_id} ({opened.ref()}) not ended {at}",
                    item,
                )
        for legacy in (state.thinking_message, state.thinking_step):
            if legacy is not None:
                self.report(
                    "reasoning_not_ended", f"{legacy.type} ({legacy.ref()}) not ended {at}", item
                )
        for call_id, opened in state.tool_calls.items():
            self.report(
                "tool_call_not_ended", f"tool call {call_id} ({opened.ref()}) not ended {at}", item
            )
        for subagent, opened in state.subagents.items():
            self.report(
                "subagent_not_finished",
                f"subagent {subagent} ({opened.ref()}) not finished {at}",
                item,
            )
        self.check_outcome(item)
        self.status = "finished"
        self.terminal = item

    def on_run_error(self, item: Item) -> None:
        self.status = "errored"
        self.terminal = item

    def on_text_message_start(self, item: Item) -> None:
        key = item.id("messageId")
        self._open(item, self.state.messages, key, "message_already_started", "text message")

    def on_text_message_content(self, item: Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.messages, key, "message_not_started", "TEXT_MESSAGE_START", False
        )
        if key in self.state.messages:
            self._check_delta(item, key)

    def on_text_message_end(self, item: Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.messages, key, "message_not_started", "TEXT_MESSAGE_START", True
        )

    def on_tool_call_start(self, item: Item) -> None:
        key = item.id("toolCallId")
        self._open(item, self.state.tool_calls, key, "tool_call_already_started", "tool call")
        self.started_calls.add(key)
        self.state.run_calls.append(key)

    def on_tool_call_args(self, item: Item) -> None:
        key = item.id("toolCallId")
        self._continue(
            item, self.state.tool_calls, key, "tool_call_not_started", "TOOL_CALL_START", False
        )

    def on_tool_call_end(self, item: Item) -> None:
        key = item.id("toolCallId")
        self._continue(
            item, self.state.tool_calls, key, "tool_call_not_started", "TOOL_CALL_START", True
        )

    def on_tool_call_result(self, item: Item) -> None:
        key = item.id("toolCallId")
        self.state.answered_calls.add(key)
        if key not in self.started_calls:
            self.report(
                "tool_result_unknown_call",
                f"TOOL_CALL_RESULT for tool call {key}, which no TOOL_CALL_START opened "
                f"{item.at()}",
                item,
            )

    def _step_key(self, item: Item) -> tuple[object, str]:
        return (item.event.get("subagentRunId"), item.id("stepName"))

    def on_step_started(self, item: Item) -> None:
        key = self._step_key(item)
        if key in self.state.steps:
            self.report(
                "step_already_started",
                f"STEP_STARTED {key[1]!r} {item.at()} while that step "
                f"({self.state.steps[key].ref()}) is still open",
                item,
            )
            return
        self.state.steps[key] = item

    def on_step_finished(self, item: Item) -> None:
        key = self._step_key(item)
        if key not in self.state.steps:
            self.report(
                "step_not_started",
                f"STEP_FINISHED {key[1]!r} without STEP_STARTED {item.at()}",
                item,
            )
            return
        del self.state.steps[key]

    def on_reasoning_start(self, item: Item) -> None:
        key = item.id("messageId")
        self._open(
            item, self.state.reasoning_spans, key, "reasoning_already_started", "reasoning span"
        )

    def on_reasoning_end(self, item: Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.reasoning_spans, key, "reasoning_not_started", "REASONING_START", True
        )

    def on_reasoning_message_start(self, item: Item) -> None:
        key = item.id("messageId")
        self._open(
            item,
            self.state.reasoning_messages,
            key,
            "reasoning_already_started",
            "reasoning message",
        )

    def on_reasoning_message_content(self, item: Item) -> None:
        key = item.id("messageId")
        self._continue(
            item,
            self.state.reasoning_messages,
            key,
            "reasoning_not_started",
            "REASONING_MESSAGE_START",
            False,
        )
        if key in self.state.reasoning_messages:
            self._check_delta(item, key)

    def on_reasoning_message_end(self, item: Item) -> None:
        key = item.id("messageId")
        self._continue(
            item,
            self.state.reasoning_messages,
            key,
            "reasoning_not_started",
            "REASONING_MESSAGE_START",
            True,
        )

    # subagents

    def on_subagent_started(self, item: Item) -> None:
        key = item.id("subagentRunId")
        state = self.state
        if key in state.subagents or key in state.closed_subagents:
            self.report(
                "subagent_already_started",
                f"SUBAGENT_STARTED {key} {item.at()}: that subagent run id is already used "
                "in this run",
                item,
            )
            return
        parent = item.event.get("parentSubagentRunId")
        if (
            isinstance(parent, str)
            and parent not in state.subagents
            and parent not in state.closed_subagents
        ):
            self.report(
                "subagent_not_started",
                f"SUBAGENT_STARTED {key} {item.at()} names parent subagent {parent}, "
                "which has not started in this run",
                item,
            )
            return
        state.subagents[key] = item

    def _subagent_end(self, item: Item) -> None:
        key = item.id("subagentRunId")
        if key not in self.state.subagents:
            self.report(
                "subagent_not_started",
                f"{item.type} {key} without SUBAGENT_STARTED {item.at()}",
                item,
            )
            return
        del self.state.subagents[key]
        self.state.closed_subagents.add(key)

    on_subagent_finished = _subagent_end
    on_subagent_error = _subagent_end
