"""The AG-UI event contract, checked over a list of events, and the golden path read from it.

AG-UI (the open Agent–User Interaction protocol) streams an agent run as JSON
events: ``RUN_STARTED``, ``TEXT_MESSAGE_*``, ``TOOL_CALL_*``, ``REASONING_*``,
``STEP_*``, ... and ``RUN_FINISHED`` or ``RUN_ERROR``. ``check_agui_events``
takes events as the wire carries them (camelCase JSON objects) and returns
every way they break the contract; ``assert_agui_events`` raises
:class:`~golden_path.testing.contract.ContractViolation` listing them all,
exactly like the protocol v1 checker (:mod:`golden_path.testing.contract`).
The checker is pure: no I/O, no clock, no global state.

Three layers:

1. **Each event** is validated by the official ``ag-ui-protocol`` package's
   own pydantic model for its type (wire names only: ``messageId``, not
   ``message_id``). Nothing of the schema is copied here.
2. **The sequence rules** of the AG-UI clients' own verifier
   (``verifyEvents`` in npm ``@ag-ui/client`` 1.0), after the chunk events
   (``TEXT_MESSAGE_CHUNK``, ``TOOL_CALL_CHUNK``, ``REASONING_MESSAGE_CHUNK``)
   are expanded as that client's ``transformChunks`` does (see
   :func:`expand_chunks`), plus two of golden-path's own: a
   ``TOOL_CALL_RESULT`` must answer a started call, and one run keeps one
   ``threadId``/``runId``. The deprecated ``THINKING_*`` events of AG-UI 0.x
   are still recognised and paired as the 0.x verifier paired them.
3. **The golden path** on top: :func:`read_stages` reads the five stages of
   a run (started, thinking, tool executing, tool completed, completed or
   error) from its events, and ``stages=`` demands the ones a journey must
   show.

Every :class:`~golden_path.testing.contract.Violation` carries a stable ``rule`` (see
:data:`RULES`); messages name the rule's subject, its ids and the event's index
into the list given, e.g. ``run r1: TEXT_MESSAGE_CONTENT m1 without
TEXT_MESSAGE_START (event #4)``. Events that are not objects, name no AG-UI
event or fail their model get that violation and take no part in the sequence
checks. Where the verifier stops at its first error, this checker goes on and
reports every violation.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ag_ui.core import Event as _AGUIEvent
from ag_ui.core import EventType
from pydantic import BaseModel, ValidationError

from golden_path.testing.contract import ContractViolation, Violation

__all__ = [
    "LEGACY_THINKING_TYPES",
    "RULES",
    "Stage",
    "assert_agui_events",
    "check_agui_events",
    "expand_chunks",
    "read_stages",
]

RULES: Mapping[str, str] = {
    "not_an_object": "an event is not a JSON object",
    "unknown_type": "the event's type names no AG-UI event",
    "invalid_event": "an event fails the ag-ui-protocol model of its type",
    "chunk_without_id": "a chunk that opens a message or tool call lacks its id or tool name",
    "run_not_started": "the stream does not begin with RUN_STARTED (or RUN_ERROR), or is empty",
    "run_already_active": "RUN_STARTED while a run is still active",
    "after_terminal": "an event follows RUN_ERROR, or a non-RUN_ERROR event follows RUN_FINISHED",
    "inconsistent_id": "a run's RUN_FINISHED or RUN_STARTED names another threadId/runId",
    "message_already_started": "TEXT_MESSAGE_START for a messageId already open",
    "message_not_started": "TEXT_MESSAGE_CONTENT/END for a messageId that is not open",
    "message_not_ended": "RUN_FINISHED while a text message is still open",
    "empty_delta": "a content delta is the empty string (only with non_empty_deltas=True)",
    "tool_call_already_started": "TOOL_CALL_START for a toolCallId already open",
    "tool_call_not_started": "TOOL_CALL_ARGS/END for a toolCallId that is not open",
    "tool_call_not_ended": "RUN_FINISHED while a tool call is still open",
    "tool_result_unknown_call": "TOOL_CALL_RESULT for a toolCallId no TOOL_CALL_START opened",
    "step_already_started": "STEP_STARTED for a step name already open",
    "step_not_started": "STEP_FINISHED for a step name that is not open",
    "step_not_finished": "RUN_FINISHED while a step is still open",
    "reasoning_already_started": "a reasoning (or thinking) span or message opened twice",
    "reasoning_not_started": "a reasoning (or thinking) event for a span or message not open",
    "reasoning_not_ended": "RUN_FINISHED while a reasoning span or message is still open",
    "subagent_already_started": "SUBAGENT_STARTED for a subagentRunId already used in the run",
    "subagent_not_started": "SUBAGENT_FINISHED/ERROR (or a parent) names no started subagent",
    "subagent_not_finished": "RUN_FINISHED while a subagent is still active",
    "no_terminal": "the stream ends with a run still active (require_complete=True)",
    "missing_stage": "the stream does not show a golden-path stage the test requires",
}


class Stage(StrEnum):
    """The golden path's stages, as read from AG-UI events (cf. protocol v1's event types)."""

    STARTED = "started"  # RUN_STARTED (v1: agent_started)
    THINKING = "thinking"  # REASONING_*, THINKING_*, STEP_* (v1: agent_thinking)
    TOOL_EXECUTING = "tool_executing"  # TOOL_CALL_START (v1: tool_executing)
    TOOL_COMPLETED = "tool_completed"  # TOOL_CALL_RESULT (v1: tool_completed)
    COMPLETED = "completed"  # RUN_FINISHED (v1: agent_completed)
    ERROR = "error"  # RUN_ERROR (v1: agent_error)


# The deprecated 0.x thinking events: gone from ag-ui-protocol 1.0 (no model), still sent
# by older producers and translated by the TypeScript client's compatibility layer.
LEGACY_THINKING_TYPES: frozenset[str] = frozenset(
    {
        "THINKING_START",
        "THINKING_END",
        "THINKING_TEXT_MESSAGE_START",
        "THINKING_TEXT_MESSAGE_CONTENT",
        "THINKING_TEXT_MESSAGE_END",
    }
)

_MODELS: dict[str, type[BaseModel]] = {
    cls.model_fields["type"].default.value: cls
    for cls in typing.get_args(typing.get_args(_AGUIEvent)[0])
}
if set(_MODELS) != {t.value for t in EventType}:  # pragma: no cover - a new package version
    raise RuntimeError("ag-ui-protocol's Event union and EventType disagree")

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

# What a chunk kind expands into: (chunk type, id field, start, content, end).
_CHUNKS: dict[str, tuple[str, str, str, str]] = {
    _T.TEXT_MESSAGE_CHUNK.value: (
        "messageId",
        _T.TEXT_MESSAGE_START.value,
        _T.TEXT_MESSAGE_CONTENT.value,
        _T.TEXT_MESSAGE_END.value,
    ),
    _T.TOOL_CALL_CHUNK.value: (
        "toolCallId",
        _T.TOOL_CALL_START.value,
        _T.TOOL_CALL_ARGS.value,
        _T.TOOL_CALL_END.value,
    ),
    _T.REASONING_MESSAGE_CHUNK.value: (
        "messageId",
        _T.REASONING_MESSAGE_START.value,
        _T.REASONING_MESSAGE_CONTENT.value,
        _T.REASONING_MESSAGE_END.value,
    ),
}
# Events before which the chunk transformer closes the open chunk stream of their lane
# (the subagent they are attributed to), or of every lane; the rest pass untouched.
_CLOSES_LANE = frozenset(
    t.value
    for t in (
        _T.TEXT_MESSAGE_START,
        _T.TEXT_MESSAGE_CONTENT,
        _T.TEXT_MESSAGE_END,
        _T.TOOL_CALL_START,
        _T.TOOL_CALL_ARGS,
        _T.TOOL_CALL_END,
        _T.TOOL_CALL_RESULT,
        _T.STATE_SNAPSHOT,
        _T.STATE_DELTA,
        _T.CUSTOM,
        _T.STEP_STARTED,
        _T.STEP_FINISHED,
        _T.REASONING_START,
        _T.REASONING_MESSAGE_START,
        _T.REASONING_MESSAGE_CONTENT,
        _T.REASONING_MESSAGE_END,
        _T.REASONING_END,
    )
)
_CLOSES_ALL = frozenset(
    t.value for t in (_T.RUN_STARTED, _T.RUN_FINISHED, _T.RUN_ERROR, _T.MESSAGES_SNAPSHOT)
)
_CLOSES_OWN_LANE = frozenset(t.value for t in (_T.SUBAGENT_FINISHED, _T.SUBAGENT_ERROR))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _got(value: object) -> str:
    return f"got {type(value).__name__} {_short(value)}"


# --- layer 1: each event against its model


def _validation_problems(raw: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """``(type, problems)``: the event's type when it names one, and what its model rejects."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        return None, [f"field 'type' must be a string naming an AG-UI event, {_got(kind)}"]
    if kind in LEGACY_THINKING_TYPES:
        if kind == "THINKING_TEXT_MESSAGE_CONTENT" and not isinstance(raw.get("delta"), str):
            return kind, [f"field 'delta' must be a string, {_got(raw.get('delta'))}"]
        return kind, []
    model = _MODELS.get(kind)
    if model is None:
        return kind, []
    try:
        model.model_validate(dict(raw), by_alias=True, by_name=False)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "(event)"
            problems.append(f"field {where!r}: {error['msg']}")
        return kind, problems
    return kind, []


# --- chunk expansion


@dataclass(frozen=True)
class _Item:
    """One event of the expanded stream: where it came from and what it is."""

    index: int  # index, in the list given, of the event this one is or was made from
    event: Mapping[str, Any]
    synthesized_from: str | None = None  # the chunk type, for events the expansion made

    @property
    def type(self) -> str:
        return str(self.event["type"])

    def id(self, name: str) -> str:
        value = self.event.get(name)
        return value if isinstance(value, str) else repr(value)

    def ref(self) -> str:
        """``event #3`` (``event #3, from TEXT_MESSAGE_CHUNK`` for an expanded chunk)."""
        origin = f", from {self.synthesized_from}" if self.synthesized_from else ""
        return f"event #{self.index}{origin}"

    def at(self) -> str:
        return f"({self.ref()})"


@dataclass
class _OpenChunk:
    chunk_type: str
    entity_id: str
    end: dict[str, Any]


def _expand(items: Iterable[tuple[int, Mapping[str, Any]]], out: list[Violation]) -> list[_Item]:
    """The stream with every chunk event replaced by the start/content/end it stands for.

    As the AG-UI client's ``transformChunks`` does: a chunk continues the chunk stream
    open in its lane (the subagent it is attributed to) when it names that stream's id
    or no id; otherwise it closes that stream and opens its own, which needs an id
    (and, for a tool call, a name). A chunk with a ``delta`` adds a content event. An
    open chunk stream is closed by the next event of its lane that is not a chunk
    (every lane's by a run boundary or ``MESSAGES_SNAPSHOT``) and at the stream's end.
    """
    expanded: list[_Item] = []
    lanes: dict[object, _OpenChunk] = {}

    def close(lane: object, index: int) -> None:
        open_chunk = lanes.pop(lane, None)
        if open_chunk is not None:
            expanded.append(_Item(index, open_chunk.end, open_chunk.chunk_type))

    last_index = -1
    for index, raw in items:
        last_index = index
        kind = raw["type"]
        if kind in _CHUNKS:
            id_field, start_type, content_type, end_type = _CHUNKS[kind]
            entity_id = raw.get(id_field)
            lane: object = raw.get("subagentRunId")
            if isinstance(entity_id, str):
                for owner, open_chunk in lanes.items():
                    if open_chunk.chunk_type == kind and open_chunk.entity_id == entity_id:
                        lane = owner
                        break
            current = lanes.get(lane)
            tag = {"subagentRunId": raw["subagentRunId"]} if "subagentRunId" in raw else {}
            continues = (
                current is not None
                and current.chunk_type == kind
                and (entity_id is None or entity_id == current.entity_id)
            )
            if current is not None and continues:
                entity_id = current.entity_id
            else:
                close(lane, index)
                missing = [id_field] if not isinstance(entity_id, str) else []
                if kind == _T.TOOL_CALL_CHUNK.value and not isinstance(
                    raw.get("toolCallName"), str
                ):
                    missing.append("toolCallName")
                if missing:
                    out.append(
                        Violation(
                            "chunk_without_id",
                            f"event #{index}: the first {kind} of a stream must carry "
                            f"{' and '.join(missing)}",
                            index,
                            None,
                        )
                    )
                    continue
                assert isinstance(entity_id, str)
                start: dict[str, Any] = {"type": start_type, id_field: entity_id, **tag}
                if kind == _T.TEXT_MESSAGE_CHUNK.value:
                    start["role"] = raw.get("role") or "assistant"
                    if "name" in raw:
                        start["name"] = raw["name"]
                elif kind == _T.TOOL_CALL_CHUNK.value:
                    start["toolCallName"] = raw["toolCallName"]
                    if "parentMessageId" in raw:
                        start["parentMessageId"] = raw["parentMessageId"]
                else:
                    start["role"] = "reasoning"
                expanded.append(_Item(index, start, kind))
                lanes[lane] = _OpenChunk(
                    kind, entity_id, {"type": end_type, id_field: entity_id, **tag}
                )
            if raw.get("delta") is not None:
                content = {"type": content_type, id_field: entity_id, "delta": raw["delta"], **tag}
                expanded.append(_Item(index, content, kind))
            continue
        if kind in _CLOSES_ALL:
            for lane in list(lanes):
                close(lane, index)
        elif kind in _CLOSES_LANE or (kind in _CLOSES_OWN_LANE and "subagentRunId" in raw):
            close(raw.get("subagentRunId"), index)
        expanded.append(_Item(index, raw))
    for lane in list(lanes):
        close(lane, last_index)
    return expanded


def _validated(
    events: Sequence[object], out: list[Violation]
) -> list[tuple[int, Mapping[str, Any]]]:
    good: list[tuple[int, Mapping[str, Any]]] = []
    for index, raw in enumerate(events):
        if not isinstance(raw, Mapping):
            out.append(
                Violation(
                    "not_an_object", f"event #{index}: not a JSON object, {_got(raw)}", index, None
                )
            )
            continue
        kind, problems = _validation_problems(raw)
        run = raw.get("runId") if isinstance(raw.get("runId"), str) else None
        if kind is not None and kind not in _MODELS and kind not in LEGACY_THINKING_TYPES:
            out.append(
                Violation("unknown_type", f"event #{index}: unknown type {kind!r}", index, run)
            )
            continue
        for problem in problems:
            out.append(
                Violation(
                    "invalid_event",
                    f"event #{index}: {kind or 'event'} {problem}",
                    index,
                    run,
                )
            )
        if not problems:
            good.append((index, raw))
    return good


def expand_chunks(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The events with every chunk event replaced by what it stands for (see module doc).

    Events that fail their model, and chunks that cannot open a stream, are left out.
    """
    ignored: list[Violation] = []
    return [dict(item.event) for item in _expand(_validated(events, ignored), ignored)]


# --- layer 2: the sequence rules


@dataclass
class _RunState:
    start: _Item | None = None
    messages: dict[str, _Item] = field(default_factory=dict)
    tool_calls: dict[str, _Item] = field(default_factory=dict)
    steps: dict[tuple[object, str], _Item] = field(default_factory=dict)
    reasoning_spans: dict[str, _Item] = field(default_factory=dict)
    reasoning_messages: dict[str, _Item] = field(default_factory=dict)
    thinking_step: _Item | None = None
    thinking_message: _Item | None = None
    subagents: dict[str, _Item] = field(default_factory=dict)
    closed_subagents: set[str] = field(default_factory=set)


class _Checker:
    def __init__(
        self,
        out: list[Violation],
        *,
        thread_id: str | None,
        run_id: str | None,
        non_empty_deltas: bool,
    ) -> None:
        self.out = out
        self.thread_id = thread_id
        self.run_id = run_id
        self.non_empty_deltas = non_empty_deltas
        self.state = _RunState()
        self.status: str | None = None  # None (no event yet), active, finished, errored
        self.terminal: _Item | None = None
        self.started_calls: set[str] = set()  # across the stream, for TOOL_CALL_RESULT

    # -- reporting

    def run_label(self) -> str | None:
        start = self.state.start
        if start is not None and isinstance(start.event.get("runId"), str):
            return str(start.event["runId"])
        return None

    def report(self, rule: str, message: str, item: _Item | None) -> None:
        run = self.run_label()
        prefix = f"run {run}: " if run else ""
        index = item.index if item is not None else None
        self.out.append(Violation(rule, prefix + message, index, run))

    # -- the state machine

    def feed(self, item: _Item) -> None:
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

    def finish(self, require_complete: bool, last: _Item | None) -> None:
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

    def on_run_started(self, item: _Item) -> None:
        self.state = _RunState(start=item)
        self.status = "active"
        for name, expected in (("threadId", self.thread_id), ("runId", self.run_id)):
            given = item.event.get(name)
            if expected is not None and given != expected:
                self.report(
                    "inconsistent_id",
                    f"RUN_STARTED {item.at()} names {name} {given!r}, but the run asked "
                    f"for was {expected!r}",
                    item,
                )

    def on_run_finished(self, item: _Item) -> None:
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
        self.status = "finished"
        self.terminal = item

    def on_run_error(self, item: _Item) -> None:
        self.status = "errored"
        self.terminal = item

    # paired entities

    def _open(
        self, item: _Item, entities: dict[str, _Item], key: str, rule: str, what: str
    ) -> None:
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
        item: _Item,
        entities: dict[str, _Item],
        key: str,
        rule: str,
        opener: str,
        close: bool,
    ) -> None:
        if key not in entities:
            self.report(rule, f"{item.type} {key} without {opener} {item.at()}", item)
            return
        if close:
            del entities[key]

    def _check_delta(self, item: _Item, key: str) -> None:
        if self.non_empty_deltas and item.event.get("delta") == "":
            self.report("empty_delta", f"{item.type} {key} has an empty delta {item.at()}", item)

    def on_text_message_start(self, item: _Item) -> None:
        key = item.id("messageId")
        self._open(item, self.state.messages, key, "message_already_started", "text message")

    def on_text_message_content(self, item: _Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.messages, key, "message_not_started", "TEXT_MESSAGE_START", False
        )
        if key in self.state.messages:
            self._check_delta(item, key)

    def on_text_message_end(self, item: _Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.messages, key, "message_not_started", "TEXT_MESSAGE_START", True
        )

    def on_tool_call_start(self, item: _Item) -> None:
        key = item.id("toolCallId")
        self._open(item, self.state.tool_calls, key, "tool_call_already_started", "tool call")
        self.started_calls.add(key)

    def on_tool_call_args(self, item: _Item) -> None:
        key = item.id("toolCallId")
        self._continue(
            item, self.state.tool_calls, key, "tool_call_not_started", "TOOL_CALL_START", False
        )

    def on_tool_call_end(self, item: _Item) -> None:
        key = item.id("toolCallId")
        self._continue(
            item, self.state.tool_calls, key, "tool_call_not_started", "TOOL_CALL_START", True
        )

    def on_tool_call_result(self, item: _Item) -> None:
        key = item.id("toolCallId")
        if key not in self.started_calls:
            self.report(
                "tool_result_unknown_call",
                f"TOOL_CALL_RESULT for tool call {key}, which no TOOL_CALL_START opened "
                f"{item.at()}",
                item,
            )

    def _step_key(self, item: _Item) -> tuple[object, str]:
        return (item.event.get("subagentRunId"), item.id("stepName"))

    def on_step_started(self, item: _Item) -> None:
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

    def on_step_finished(self, item: _Item) -> None:
        key = self._step_key(item)
        if key not in self.state.steps:
            self.report(
                "step_not_started",
                f"STEP_FINISHED {key[1]!r} without STEP_STARTED {item.at()}",
                item,
            )
            return
        del self.state.steps[key]

    def on_reasoning_start(self, item: _Item) -> None:
        key = item.id("messageId")
        self._open(
            item, self.state.reasoning_spans, key, "reasoning_already_started", "reasoning span"
        )

    def on_reasoning_end(self, item: _Item) -> None:
        key = item.id("messageId")
        self._continue(
            item, self.state.reasoning_spans, key, "reasoning_not_started", "REASONING_START", True
        )

    def on_reasoning_message_start(self, item: _Item) -> None:
        key = item.id("messageId")
        self._open(
            item,
            self.state.reasoning_messages,
            key,
            "reasoning_already_started",
            "reasoning message",
        )

    def on_reasoning_message_content(self, item: _Item) -> None:
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

    def on_reasoning_message_end(self, item: _Item) -> None:
        key = item.id("messageId")
        self._continue(
            item,
            self.state.reasoning_messages,
            key,
            "reasoning_not_started",
            "REASONING_MESSAGE_START",
            True,
        )

    # legacy 0.x thinking: one step and one message at a time, no ids

    def on_thinking_start(self, item: _Item) -> None:
        if self.state.thinking_step is not None:
            self.report(
                "reasoning_already_started",
                f"THINKING_START {item.at()} while the thinking step "
                f"({self.state.thinking_step.ref()}) is still open",
                item,
            )
            return
        self.state.thinking_step = item

    def on_thinking_end(self, item: _Item) -> None:
        if self.state.thinking_step is None:
            self.report(
                "reasoning_not_started", f"THINKING_END without THINKING_START {item.at()}", item
            )
            return
        self.state.thinking_step = None

    def on_thinking_text_message_start(self, item: _Item) -> None:
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

    def on_thinking_text_message_content(self, item: _Item) -> None:
        if self.state.thinking_message is None:
            self.report(
                "reasoning_not_started",
                f"THINKING_TEXT_MESSAGE_CONTENT without THINKING_TEXT_MESSAGE_START {item.at()}",
                item,
            )
            return
        self._check_delta(item, "(thinking)")

    def on_thinking_text_message_end(self, item: _Item) -> None:
        if self.state.thinking_message is None:
            self.report(
                "reasoning_not_started",
                f"THINKING_TEXT_MESSAGE_END without THINKING_TEXT_MESSAGE_START {item.at()}",
                item,
            )
            return
        self.state.thinking_message = None

    # subagents

    def on_subagent_started(self, item: _Item) -> None:
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

    def _subagent_end(self, item: _Item) -> None:
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


# --- layer 3: the golden path


def _stage_items(items: Sequence[_Item]) -> list[tuple[_Item, Stage]]:
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
    for _, stage in _stage_items(_expand(_validated(events, ignored), ignored)):
        seen.setdefault(stage, None)
    return tuple(seen)


def check_agui_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    thread_id: str | None = None,
    run_id: str | None = None,
    stages: Collection[Stage | str] = (),
    non_empty_deltas: bool = False,
) -> list[Violation]:
    """Every AG-UI contract violation in ``events``, in a stable order (events, then sequence).

    ``require_complete``: the stream must end its last run (turn off for a stream still
    arriving, or one the client cut). ``thread_id`` / ``run_id``: every ``RUN_STARTED``
    must name these (the ids of the ``RunAgentInput`` the client sent). ``stages``: the
    golden-path stages (:class:`Stage` or their names) the stream must show, e.g.
    ``{Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED}`` for "a tool ran and completed".
    ``non_empty_deltas``: also flag empty content deltas, which AG-UI 0.x forbade and
    1.0 allows (see docs/testing.md).
    """
    wanted = [Stage(s) for s in stages]
    out: list[Violation] = []
    valid = _validated(events, out)
    items = _expand(valid, out)
    checker = _Checker(out, thread_id=thread_id, run_id=run_id, non_empty_deltas=non_empty_deltas)
    for item in items:
        checker.feed(item)
    checker.finish(require_complete, items[-1] if items else None)
    if wanted:
        shown = {stage for _, stage in _stage_items(items)}
        missing = [s.value for s in wanted if s not in shown]
        if missing:
            last = items[-1] if items else None
            seen = ", ".join(s.value for s in read_stages(events)) or "no stage"
            where = f" (last event #{last.index})" if last is not None else ""
            out.append(
                Violation(
                    "missing_stage",
                    f"the stream shows {seen} but not {' and '.join(missing)}{where}",
                    last.index if last is not None else None,
                    checker.run_label(),
                )
            )
    return out


def assert_agui_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    thread_id: str | None = None,
    run_id: str | None = None,
    stages: Collection[Stage | str] = (),
    non_empty_deltas: bool = False,
) -> None:
    """Raise :class:`ContractViolation` listing every violation :func:`check_agui_events` finds."""
    violations = check_agui_events(
        events,
        require_complete=require_complete,
        thread_id=thread_id,
        run_id=run_id,
        stages=stages,
        non_empty_deltas=non_empty_deltas,
    )
    if violations:
        raise ContractViolation(violations)
