"""AG-UI's chunk events expanded as the official client does (``transformChunks``).

``TEXT_MESSAGE_CHUNK``, ``TOOL_CALL_CHUNK`` and ``REASONING_MESSAGE_CHUNK`` stand
for start / content / end events; the sequence rules
(:mod:`golden_path.testing.agui.rules`) judge the expanded stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ag_ui.core import EventType

from golden_path.testing.agui.schema import validated
from golden_path.testing.violation import Violation

_T = EventType
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


@dataclass(frozen=True)
class Item:
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
    said: dict[str, Any]  # what the opener established: role, toolCallName, parentMessageId


# What a continuation chunk may repeat, but only with the value its opener established.
_REPEATABLE = ("role", "toolCallName", "parentMessageId")


def _continuation_conflicts(
    raw: Mapping[str, Any], current: _OpenChunk, index: int
) -> list[Violation]:
    found = []
    for name in _REPEATABLE:
        if raw.get(name) is not None and name in current.said and raw[name] != current.said[name]:
            found.append(
                Violation(
                    "chunk_conflict",
                    f"event #{index}: {current.chunk_type} {current.entity_id} {name} "
                    f"{raw[name]!r} does not match the open stream's {name} "
                    f"{current.said[name]!r}",
                    index,
                    None,
                )
            )
    # A subagentRunId that disagrees with the opener's is the sequence rules' to report
    # (subagent_mismatch): the expanded event carries it.
    return found


def expand(items: Iterable[tuple[int, Mapping[str, Any]]], out: list[Violation]) -> list[Item]:
    """The stream with every chunk event replaced by the start/content/end it stands for.

    As the AG-UI client's ``transformChunks`` does: a chunk continues the chunk stream
    open in its lane (the subagent it is attributed to) when it names that stream's id
    or no id; otherwise it closes that stream and opens its own, which needs an id
    (and, for a tool call, a name). A chunk with a ``delta`` adds a content event. An
    open chunk stream is closed by the next event of its lane that is not a chunk
    (every lane's by a run boundary or ``MESSAGES_SNAPSHOT``) and at the stream's end.
    """
    expanded: list[Item] = []
    lanes: dict[object, _OpenChunk] = {}

    def close(lane: object, index: int) -> None:
        open_chunk = lanes.pop(lane, None)
        if open_chunk is not None:
            expanded.append(Item(index, open_chunk.end, open_chunk.chunk_type))

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
                out.extend(_continuation_conflicts(raw, current, index))
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
                expanded.append(Item(index, start, kind))
                said = {k: start[k] for k in _REPEATABLE if k in start}
                lanes[lane] = _OpenChunk(
                    kind, entity_id, {"type": end_type, id_field: entity_id, **tag}, said
                )
            if raw.get("delta") is not None:
                content = {"type": content_type, id_field: entity_id, "delta": raw["delta"], **tag}
                expanded.append(Item(index, content, kind))
            continue
        if kind in _CLOSES_ALL:
            for lane in list(lanes):
                close(lane, index)
        elif kind in _CLOSES_LANE or (kind in _CLOSES_OWN_LANE and "subagentRunId" in raw):
            close(raw.get("subagentRunId"), index)
        expanded.append(Item(index, raw))
    for lane in list(lanes):
        close(lane, last_index)
    return expanded


def expand_chunks(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The events with every chunk event replaced by what it stands for (see module doc).

    Events that fail their model, and chunks that cannot open a stream, are left out.
    """
    ignored: list[Violation] = []
    return [dict(item.event) for item in expand(validated(events, ignored), ignored)]
