"""Protocol v1 run events as AG-UI events: the one place that says how one becomes the other.

Pure functions (no I/O, no clock): :func:`to_agui` turns one persisted v1 event
into the AG-UI events it stands for, :func:`refusal_to_agui` turns a refusal
into the lone ``RUN_ERROR`` of a run that never started. docs/protocol.md §12
documents the table:

=================  =======================================================================
v1 event           AG-UI events
=================  =======================================================================
agent_started      RUN_STARTED (the client's threadId and runId)
agent_thinking     REASONING_START, REASONING_MESSAGE_START/CONTENT/END, REASONING_END
tool_executing     TOOL_CALL_START, TOOL_CALL_ARGS (the parameters as JSON), TOOL_CALL_END;
                   with ``approval_required``: then RUN_FINISHED, outcome ``interrupt``
tool_completed     TOOL_CALL_RESULT (the results as JSON; a failed tool's carry ``error``)
agent_completed    TEXT_MESSAGE_START/CONTENT/END (the final response), RUN_FINISHED
agent_error        RUN_ERROR (``code``: the agent error code)
(a refusal)        RUN_ERROR alone (``code``: the refusal's error code)
(a resume)         RUN_STARTED, opening the run that answers an interrupt
=================  =======================================================================

Every AG-UI event carries ``metadata["golden_path"]`` naming the v1 event it came
from (``event``, ``seq``), so a client can match it with ``GET /events``;
``RUN_STARTED``'s also names the server's ``run_id``, ``thread_id`` and
``request_id``, ``TOOL_CALL_RESULT``'s the tool's ``success``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ag_ui.core import (
    PROTOCOL_VERSION,
    BaseEvent,
    Interrupt,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from golden_path.protocol import APPROVAL_FIELD, EventType
from golden_path.server.refusal import Refusal

__all__ = [
    "AGUI_PATH",
    "METADATA_KEY",
    "TOOL_FAILED",
    "AGUIRunIds",
    "ends_stream",
    "refusal_to_agui",
    "resumed_to_agui",
    "to_agui",
]

_TERMINAL = frozenset(t.value for t in EventType if t.is_terminal)
AGUI_PATH = "/agui"
METADATA_KEY = "golden_path"  # AG-UI reserves "ag-ui"; metadata is open by key otherwise
TOOL_FAILED = "the tool failed"  # a failed tool's ``error`` when its results name none
APPROVAL_REASON = "tool_approval"  # the ``reason`` of the interrupt a costly tool pauses on
# What a resume entry's payload must be: AG-UI's approval pattern.
APPROVAL_SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}},
    "required": ["approved"],
}


@dataclass(frozen=True, slots=True)
class AGUIRunIds:
    """The ids the client's ``RunAgentInput`` chose: every run event names these."""

    thread_id: str
    run_id: str


def _json(value: Any) -> str:
    """Compact, keys sorted: the same run reads the same live and replayed (JSONB sorts them)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _millis(timestamp: object) -> int | None:
    """A v1 RFC 3339 timestamp as AG-UI's integer milliseconds since the epoch."""
    if not isinstance(timestamp, str):
        return None
    try:
        return int(datetime.fromisoformat(timestamp).timestamp() * 1000)
    except ValueError:
        return None


def _origin(event: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    return {METADATA_KEY: {"event": event["type"], "seq": event.get("seq"), **more}}


def _started(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    origin = _origin(
        event,
        run_id=event["run_id"],
        thread_id=event["thread_id"],
        request_id=event["request_id"],
        message_id=event.get("message_id"),
    )
    return [
        RunStartedEvent(
            thread_id=ids.thread_id,
            run_id=ids.run_id,
            protocol_version=PROTOCOL_VERSION,
            timestamp=at,
            metadata=origin,
        )
    ]


def _thinking(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    span, message = f"{event['event_id']}-span", str(event["event_id"])
    meta = _origin(event, step=event.get("step"))
    return [
        ReasoningStartEvent(message_id=span, timestamp=at, metadata=meta),
        ReasoningMessageStartEvent(message_id=message, timestamp=at, metadata=meta),
        ReasoningMessageContentEvent(
            message_id=message, delta=str(event["reasoning"]), timestamp=at, metadata=meta
        ),
        ReasoningMessageEndEvent(message_id=message, timestamp=at, metadata=meta),
        ReasoningEndEvent(message_id=span, timestamp=at, metadata=meta),
    ]


def _tool_executing(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    call, meta = str(event["tool_call_id"]), _origin(event)
    events: list[BaseEvent] = [
        ToolCallStartEvent(
            tool_call_id=call, tool_call_name=str(event["tool_name"]), timestamp=at, metadata=meta
        ),
        ToolCallArgsEvent(
            tool_call_id=call, delta=_json(event["parameters"]), timestamp=at, metadata=meta
        ),
        ToolCallEndEvent(tool_call_id=call, timestamp=at, metadata=meta),
    ]
    approval = event.get(APPROVAL_FIELD)
    if isinstance(approval, Mapping):
        events.append(_paused(event, approval, ids, at))
    return events


def _paused(
    event: Mapping[str, Any], approval: Mapping[str, Any], ids: AGUIRunIds, at: int | None
) -> RunFinishedEvent:
    """The run pauses at this tool call until the user approves or denies it (§12.1)."""
    interrupt = Interrupt(
        id=str(approval["interrupt_id"]),
        reason=APPROVAL_REASON,
        message=str(approval["message"]),
        tool_call_id=str(event["tool_call_id"]),
        response_schema=APPROVAL_SCHEMA,
        metadata={
            METADATA_KEY: {
                "tool_name": event["tool_name"],
                "cost_usd": approval["cost_usd"],
                "limit_usd": approval["limit_usd"],
            }
        },
    )
    return RunFinishedEvent(
        thread_id=ids.thread_id,
        run_id=ids.run_id,
        outcome=RunFinishedInterruptOutcome(interrupts=[interrupt]),
        timestamp=at,
        metadata=_origin(event),
    )


def ends_stream(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is the last an AG-UI response streams: the run's end, or its pause."""
    kind = event.get("type")
    if kind == EventType.TOOL_EXECUTING.value:
        return isinstance(event.get(APPROVAL_FIELD), Mapping)
    return kind in _TERMINAL


def resumed_to_agui(
    run: Mapping[str, Any], request_id: str, interrupt_id: str, ids: AGUIRunIds
) -> RunStartedEvent:
    """The ``RUN_STARTED`` of a run that answers an interrupt: the server run it continues
    (``run``: ``run_id``, ``thread_id``) and the interrupt it answers, in its metadata."""
    return RunStartedEvent(
        thread_id=ids.thread_id,
        run_id=ids.run_id,
        protocol_version=PROTOCOL_VERSION,
        metadata={
            METADATA_KEY: {
                "run_id": run["run_id"],
                "thread_id": run["thread_id"],
                "request_id": request_id,
                "resumes": interrupt_id,
            }
        },
    )


def _tool_completed(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    results = event["results"]
    success = event["success"] is True
    content = dict(results) if isinstance(results, Mapping) else {"results": results}
    if not success:
        # A failed tool is visibly failed in the content every AG-UI client keeps as the
        # tool message (AG-UI's ToolMessage.error has no field on TOOL_CALL_RESULT).
        content["error"] = str(content.get("error") or TOOL_FAILED)
    meta = _origin(
        event,
        success=success,
        tool_name=event["tool_name"],
        duration_ms=event.get("duration_ms"),
    )
    return [
        ToolCallResultEvent(
            message_id=str(event["event_id"]),
            tool_call_id=str(event["tool_call_id"]),
            content=_json(content),
            role="tool",
            timestamp=at,
            metadata=meta,
        )
    ]


def _usage(usage: Mapping[str, Any]) -> list[TokenUsage]:
    tokens_in, tokens_out = int(usage["input_tokens"]), int(usage["output_tokens"])
    return [
        TokenUsage(
            input_tokens=tokens_in, output_tokens=tokens_out, total_tokens=tokens_in + tokens_out
        )
    ]


def _completed(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    message, meta = str(event["event_id"]), _origin(event)
    text = str(event["final_response"])
    result = {
        "result": event["result"],
        "usage": event["usage"],  # with the run's cost_usd, which AG-UI's usage has no field for
        "duration_ms": event.get("duration_ms"),
        **({"upgrade": event["upgrade"]} if event.get("upgrade") is not None else {}),
    }
    events: list[BaseEvent] = [
        TextMessageStartEvent(message_id=message, role="assistant", timestamp=at, metadata=meta)
    ]
    if text:
        events.append(
            TextMessageContentEvent(message_id=message, delta=text, timestamp=at, metadata=meta)
        )
    events += [
        TextMessageEndEvent(message_id=message, timestamp=at, metadata=meta),
        RunFinishedEvent(
            thread_id=ids.thread_id,
            run_id=ids.run_id,
            result=result,
            usage=_usage(event["usage"]),
            timestamp=at,
            metadata=meta,
        ),
    ]
    return events


def _error(event: Mapping[str, Any], ids: AGUIRunIds, at: int | None) -> list[BaseEvent]:
    meta = _origin(event, retryable=event.get("retryable"))
    return [
        RunErrorEvent(
            message=str(event["message"]), code=str(event["code"]), timestamp=at, metadata=meta
        )
    ]


_Translate = Callable[[Mapping[str, Any], AGUIRunIds, "int | None"], list[BaseEvent]]
_BY_TYPE: dict[EventType, _Translate] = {
    EventType.AGENT_STARTED: _started,
    EventType.AGENT_THINKING: _thinking,
    EventType.TOOL_EXECUTING: _tool_executing,
    EventType.TOOL_COMPLETED: _tool_completed,
    EventType.AGENT_COMPLETED: _completed,
    EventType.AGENT_ERROR: _error,
}
if set(_BY_TYPE) != set(EventType):  # pragma: no cover - a v1 event type without a mapping
    raise RuntimeError("every protocol v1 event type needs an AG-UI mapping")


def to_agui(event: Mapping[str, Any], ids: AGUIRunIds) -> list[BaseEvent]:
    """The AG-UI events that the persisted v1 run event ``event`` stands for, in order."""
    kind = EventType(event["type"])
    return _BY_TYPE[kind](event, ids, _millis(event.get("timestamp")))


def refusal_to_agui(refusal: Refusal) -> RunErrorEvent:
    """A message the server refused: ``RUN_ERROR`` with the v1 error frame's code and message.

    The frame's other fields (``retry_after_ms``, ``upgrade``, ``retryable``, ``details``,
    ``request_id``) travel in ``metadata["golden_path"]``.
    """
    frame = refusal.to_frame()
    extra = {k: v for k, v in frame.items() if k not in ("type", "code", "message")}
    return RunErrorEvent(
        message=refusal.message,
        code=refusal.code.value,
        metadata={METADATA_KEY: extra} if extra else None,
    )
