"""The golden path read from AG-UI events: which of the five stages a stream shows.

``RUN_STARTED`` → started; ``REASONING_*``, ``THINKING_*`` and ``STEP_*`` →
thinking; ``TOOL_CALL_START`` → tool executing; ``TOOL_CALL_RESULT`` → tool
completed; ``RUN_FINISHED`` → completed; ``RUN_ERROR`` → error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from ag_ui.core import EventType

from golden_path.testing.agui.chunks import Item, expand
from golden_path.testing.agui.schema import LEGACY_THINKING_TYPES, validated
from golden_path.testing.violation import Violation


class Stage(StrEnum):
    """The golden path's stages, as read from AG-UI events (cf. protocol v1's event types)."""

    STARTED = "started"  # RUN_STARTED (v1: agent_started)
    THINKING = "thinking"  # REASONING_*, THINKING_*, STEP_* (v1: agent_thinking)
    TOOL_EXECUTING = "tool_executing"  # TOOL_CALL_START (v1: tool_executing)
    TOOL_COMPLETED = "tool_completed"  # TOOL_CALL_RESULT (v1: tool_completed)
    COMPLETED = "completed"  # RUN_FINISHED (v1: agent_completed)
    ERROR = "error"  # RUN_ERROR (v1: agent_error)


_T = EventType
_THINKING_STAGE_TYPES = frozenset(
    {
        _T.REASONING_START,
        _T.REASONING_MESSAGE_START,
        _T.REASONING_MESSAGE_CONTENT,
        _T.REASONING_MESSAGE_END,
        _T.REASONING_END,
        _T.REASONING_ENCRYPTED_VALUE,
        _T.STEP_STARTED,
        _T.STEP_FINISHED,
    }
)
_STAGE_OF: dict[str, Stage] = {
    _T.RUN_STARTED.value: Stage.STARTED,
    _T.TOOL_CALL_START.value: Stage.TOOL_EXECUTING,
    _T.TOOL_CALL_RESULT.value: Stage.TOOL_COMPLETED,
    _T.RUN_FINISHED.value: Stage.COMPLETED,
    _T.RUN_ERROR.value: Stage.ERROR,
    **{t.value: Stage.THINKING for t in _THINKING_STAGE_TYPES},
    **dict.fromkeys(LEGACY_THINKING_TYPES, Stage.THINKING),
}


def stage_items(items: Sequence[Item]) -> list[tuple[Item, Stage]]:
    return [(item, _STAGE_OF[item.type]) for item in items if item.type in _STAGE_OF]


def read_stages(events: Sequence[Mapping[str, Any]]) -> tuple[Stage, ...]:
    """The golden-path stages the events show, each once, in order of first appearance.

    ``RUN_STARTED`` → started; ``REASONING_*``, ``THINKING_*`` and ``STEP_*`` → thinking;
    ``TOOL_CALL_START`` → tool executing; ``TOOL_CALL_RESULT`` → tool completed;
    ``RUN_FINISHED`` → completed; ``RUN_ERROR`` → error (chunks count as what they expand
    to; invalid events count for nothing).
    """
    ignored: list[Violation] = []
    seen: dict[Stage, None] = {}
    for _, stage in stage_items(expand(validated(events, ignored), ignored)):
        seen.setdefault(stage, None)
    return tuple(seen)
