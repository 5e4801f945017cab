"""AG-UI 0.x's thinking events, paired as the 0.x verifier paired them: one step and one
message at a time, no ids."""

from __future__ import annotations

from golden_path.testing.agui.chunks import Item
from golden_path.testing.agui.rules_base import CheckerBase


class LegacyThinkingRules(CheckerBase):
    def on_thinking_start(self, item: Item) -> None:
        if self.state.thinking_step is not None:
            self.report(
                "reasoning_already_started",
                f"THINKING_START {item.at()} while the thinking step "
                f"({self.state.thinking_step.ref()}) is still open",
                item,
            )
            return
        self.state.thinking_step = item

    def on_thinking_end(self, item: Item) -> None:
        if self.state.thinking_step is None:
            self.report(
                "reasoning_not_started", f"THINKING_END without THINKING_START {item.at()}", item
            )
            return
        self.state.thinking_step = None

    def on_thinking_text_message_start(self, item: Item) -> None:
        if self.state.thinking_step is None:
            self.report(
                "reasoning_not_started",
                f"THINKING_TEXT_MESSAGE_START outside a THINKING_START step {item.at()}",
                item,
            )
            return
        if self.state.thinking_message is not None:
            self.report(
                "reasoning_already_started",
                f"THINKING_TEXT_MESSAGE_START {item.at()} while a thinking message "
                f"({self.state.thinking_message.ref()}) is still open",
                item,
            )
            return
        self.state.thinking_message = item

    def on_thinking_text_message_content(self, item: Item) -> None:
        if self.state.thinking_message is None:
            self.report(
                "reasoning_not_started",
                f"THINKING_TEXT_MESSAGE_CONTENT without THINKING_TEXT_MESSAGE_START {item.at()}",
                item,
            )
            return
        self._check_delta(item, "(thinking)")

    def on_thinking_text_message_end(self, item: Item) -> None:
        if self.state.thinking_message is None:
            self.report(
                "reasoning_not_started",
                f"THINKING_TEXT_MESSAGE_END without THINKING_TEXT_MESSAGE_START {item.at()}",
                item,
            )
            return
        self.state.thinking_message = None
