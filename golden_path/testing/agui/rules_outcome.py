"""AG-UI's run-level rules: the declared protocol version, one thread per stream, and
what ``RUN_FINISHED``'s ``outcome`` says (interrupts, pending tool calls).

- ``protocolVersion``: AG-UI 1.0 says a producer MUST declare the version it speaks
  on ``RUN_STARTED`` (checked with ``require_protocol_version=True``: an older
  producer legitimately sends none), as ``MAJOR.MINOR``; a consumer proceeds on a
  declaration it cannot interpret, or one newer than it knows, and warns.
- A stream carries runs of one thread: a later ``RUN_STARTED`` naming another
  ``threadId`` is wrong.
- An interrupt outcome's interrupt ids are unique within the run (a resume entry
  answers an interrupt by its id); a success outcome's ``pendingToolCallIds``, when
  given, is the list of the calls the run started and left unanswered, in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from golden_path.testing.agui.chunks import Item
from golden_path.testing.agui.rules_base import CheckerBase

# The AG-UI version this checker knows (1.1 adds encryptedValueType to 1.0).
KNOWN_VERSION = (1, 1)
VERSION_FORMAT = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def input_tool_calls(start: Mapping[str, Any]) -> list[str]:
    """The tool call ids of the assistant messages a ``RUN_STARTED`` echoes in its input."""
    given = start.get("input")
    messages = given.get("messages") if isinstance(given, Mapping) else None
    ids = []
    for message in messages if isinstance(messages, list) else []:
        calls = message.get("toolCalls") if isinstance(message, Mapping) else None
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, Mapping) and isinstance(call.get("id"), str):
                ids.append(call["id"])
    return ids


class OutcomeRules(CheckerBase):
    def check_run_start(self, item: Item) -> None:
        thread = item.event.get("threadId")
        if self.thread is None:
            self.thread = thread if isinstance(thread, str) else None
        elif thread != self.thread and self.thread_id is None:
            self.report(
                "thread_changed",
                f"RUN_STARTED {item.at()} names threadId {thread!r}, but the stream's first run "
                f"was on thread {self.thread!r}",
                item,
            )
        self.started_calls.update(input_tool_calls(item.event))
        self._check_version(item)

    def _check_version(self, item: Item) -> None:
        declared = item.event.get("protocolVersion")
        if declared is None:
            if self.require_protocol_version:
                self.report(
                    "protocol_version_missing",
                    f"RUN_STARTED {item.at()} declares no protocolVersion (AG-UI 1.0: a producer "
                    "MUST declare the version it speaks)",
                    item,
                )
            return
        match = VERSION_FORMAT.match(declared) if isinstance(declared, str) else None
        if match is None:
            self.report(
                "protocol_version_unknown",
                f"RUN_STARTED {item.at()} declares protocolVersion {declared!r}, which is not "
                "MAJOR.MINOR: a client cannot interpret it",
                item,
            )
        elif (int(match[1]), int(match[2])) > KNOWN_VERSION:
            self.report(
                "protocol_version_unknown",
                f"RUN_STARTED {item.at()} declares protocolVersion {declared!r}, newer than "
                f"{KNOWN_VERSION[0]}.{KNOWN_VERSION[1]}, the newest this checker knows",
                item,
            )

    def check_outcome(self, item: Item) -> None:
        outcome = item.event.get("outcome")
        if not isinstance(outcome, Mapping):
            return
        if outcome.get("type") == "interrupt":
            seen: dict[str, int] = {}
            for position, interrupt in enumerate(outcome.get("interrupts") or []):
                key = interrupt.get("id") if isinstance(interrupt, Mapping) else None
                if not isinstance(key, str):
                    continue
                if key in seen:
                    self.report(
                        "interrupt_id_duplicate",
                        f"RUN_FINISHED {item.at()} names interrupt {key} twice (interrupts "
                        f"#{seen[key]} and #{position}): a resume entry could not tell them apart",
                        item,
                    )
                seen.setdefault(key, position)
        pending = outcome.get("pendingToolCallIds")
        if outcome.get("type") in (None, "success") and pending:
            state = self.state
            left_open = [c for c in state.run_calls if c not in state.answered_calls]
            if list(pending) != left_open:
                self.report(
                    "pending_tool_calls_mismatch",
                    f"RUN_FINISHED {item.at()} names pendingToolCallIds {list(pending)!r}, but "
                    f"the calls the run started and left unanswered are {left_open!r}",
                    item,
                )
