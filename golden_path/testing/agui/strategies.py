"""Hypothesis strategies for AG-UI event streams that satisfy the AG-UI contract.

``agui_runs`` yields one run: ``RUN_STARTED``, then a body of *entities*
interleaved in any order that keeps each entity's own events in order, then
``RUN_FINISHED`` (same ``threadId``/``runId``) or, for the ``error`` outcome,
the body cut after any number of events and ended by ``RUN_ERROR`` (which may
leave entities open). ``agui_streams`` yields one or more runs one after
another, as a replayed thread would carry them. Every event is a plain,
JSON-serialisable ``dict`` with the wire's camelCase names, and valid for the
``ag-ui-protocol`` model of its type (:mod:`golden_path.testing.agui.contract`).

The entities of a body (each optional, several of a kind):

* a text message: ``TEXT_MESSAGE_START``, 0-3 ``TEXT_MESSAGE_CONTENT`` with
  non-empty deltas, ``TEXT_MESSAGE_END`` (0 deltas: the empty pair some peers send);
* a tool call: ``TOOL_CALL_START``, 0-3 ``TOOL_CALL_ARGS``, ``TOOL_CALL_END``,
  then usually a ``TOOL_CALL_RESULT``;
* a reasoning span: ``REASONING_START``, ``REASONING_MESSAGE_START``,
  1-2 ``REASONING_MESSAGE_CONTENT``, ``REASONING_MESSAGE_END``, ``REASONING_END``;
* a step: ``STEP_STARTED`` and ``STEP_FINISHED`` of one name;
* a standalone ``CUSTOM`` or ``STATE_SNAPSHOT``.

``chunked_agui_runs`` yields ``(chunked, expanded)``: a run whose text messages
and tool calls are (some of them) sent as ``TEXT_MESSAGE_CHUNK`` /
``TOOL_CALL_CHUNK``, and the plain run the chunks stand for.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from hypothesis import strategies as st

__all__ = [
    "TOOL_NAMES",
    "AGUIOutcome",
    "agui_runs",
    "agui_streams",
    "chunked_agui_runs",
]

AGUIOutcome = Literal["finished", "error"]
Event = dict[str, Any]
TOOL_NAMES: tuple[str, ...] = ("get_weather", "usage_analyzer", "search_docs")

_ID_ALPHABET = string.ascii_lowercase + string.digits + "-_"
_text = st.text(alphabet=string.ascii_letters + string.digits + " .,!?é€", min_size=1, max_size=12)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


class _Ids:
    """Ids unique within a stream: a drawn salt and a counter (shrinking cannot collide them)."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self.count = 0

    def __call__(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.salt}{self.count}"


Entity = list[Event]
_X = TypeVar("_X")
# How to encode an entity as chunks: a function of the entity (or None: no chunk form).
_Chunker = Callable[[Entity], list[Event]] | None


def _with_timestamp(draw: st.DrawFn, event: Event) -> Event:
    if draw(st.booleans()):
        event["timestamp"] = draw(st.integers(1_700_000_000_000, 2_100_000_000_000))
    return event


@st.composite
def _text_message(draw: st.DrawFn, ids: _Ids) -> Entity:
    message_id = ids("msg")
    deltas = draw(st.lists(_text, max_size=3))
    return [
        {"type": "TEXT_MESSAGE_START", "messageId": message_id, "role": "assistant"},
        *({"type": "TEXT_MESSAGE_CONTENT", "messageId": message_id, "delta": d} for d in deltas),
        {"type": "TEXT_MESSAGE_END", "messageId": message_id},
    ]


@st.composite
def _tool_call(draw: st.DrawFn, ids: _Ids) -> Entity:
    call_id = ids("call")
    start: Event = {
        "type": "TOOL_CALL_START",
        "toolCallId": call_id,
        "toolCallName": draw(st.sampled_from(TOOL_NAMES)),
    }
    if draw(st.booleans()):
        start["parentMessageId"] = ids("msg")
    pieces = draw(st.lists(st.text(alphabet='{}":, abc123', min_size=1, max_size=6), max_size=3))
    events: Entity = [
        start,
        *({"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": p} for p in pieces),
        {"type": "TOOL_CALL_END", "toolCallId": call_id},
    ]
    if draw(st.integers(0, 3)) > 0:
        events.append(
            {
                "type": "TOOL_CALL_RESULT",
                "messageId": ids("msg"),
                "toolCallId": call_id,
                "content": draw(_text),
                "role": "tool",
            }
        )
    return events


@st.composite
def _reasoning(draw: st.DrawFn, ids: _Ids) -> Entity:
    span = ids("reason")
    message = span if draw(st.booleans()) else ids("reason")
    deltas = draw(st.lists(_text, min_size=1, max_size=2))
    return [
        {"type": "REASONING_START", "messageId": span},
        {"type": "REASONING_MESSAGE_START", "messageId": message, "role": "reasoning"},
        *({"type": "REASONING_MESSAGE_CONTENT", "messageId": message, "delta": d} for d in deltas),
        {"type": "REASONING_MESSAGE_END", "messageId": message},
        {"type": "REASONING_END", "messageId": span},
    ]


def _step(ids: _Ids) -> st.SearchStrategy[Entity]:
    def events() -> Entity:
        name = ids("step")
        return [
            {"type": "STEP_STARTED", "stepName": name},
            {"type": "STEP_FINISHED", "stepName": name},
        ]

    return st.builds(events)


@st.composite
def _standalone(draw: st.DrawFn, ids: _Ids) -> Entity:
    if draw(st.booleans()):
        return [{"type": "CUSTOM", "name": draw(_text), "value": draw(_json_value)}]
    return [{"type": "STATE_SNAPSHOT", "snapshot": draw(_json_value)}]


def _entities(ids: _Ids) -> st.SearchStrategy[Entity]:
    return st.one_of(
        _text_message(ids), _tool_call(ids), _reasoning(ids), _step(ids), _standalone(ids)
    )


def _chunk_text(entity: Entity) -> list[Event]:
    start, *contents, _end = entity
    first: Event = {
        "type": "TEXT_MESSAGE_CHUNK",
        "messageId": start["messageId"],
        "role": "assistant",
    }
    if not contents:
        return [first]
    chunks = [{**first, "delta": contents[0]["delta"]}]
    chunks += [{"type": "TEXT_MESSAGE_CHUNK", "delta": c["delta"]} for c in contents[1:]]
    return chunks


def _chunk_tool(entity: Entity) -> list[Event]:
    result = [e for e in entity if e["type"] == "TOOL_CALL_RESULT"]
    start, *rest = [e for e in entity if e["type"] != "TOOL_CALL_RESULT"]
    args = [e for e in rest if e["type"] == "TOOL_CALL_ARGS"]
    first: Event = {
        "type": "TOOL_CALL_CHUNK",
        "toolCallId": start["toolCallId"],
        "toolCallName": start["toolCallName"],
    }
    if "parentMessageId" in start:
        first["parentMessageId"] = start["parentMessageId"]
    chunks = [{**first, "delta": args[0]["delta"]}] if args else [first]
    chunks += [{"type": "TOOL_CALL_CHUNK", "delta": a["delta"]} for a in args[1:]]
    return chunks + result


def _interleave(draw: st.DrawFn, units: list[list[_X]]) -> list[_X]:
    """The units' items merged in a drawn order that keeps each unit's own order."""
    tags = [n for n, unit in enumerate(units) for _ in unit]
    order = draw(st.permutations(tags))
    cursors = [0] * len(units)
    merged: list[_X] = []
    for n in order:
        merged.append(units[n][cursors[n]])
        cursors[n] += 1
    return merged


@st.composite
def agui_runs(
    draw: st.DrawFn,
    *,
    outcome: AGUIOutcome | None = None,
    thread_id: str | None = None,
    max_entities: int = 5,
    salt: str | None = None,
) -> list[Event]:
    """One valid AG-UI run (see the module doc); ``outcome`` ``None`` draws either."""
    run_salt = salt if salt is not None else draw(st.text(_ID_ALPHABET, min_size=1, max_size=4))
    ids = _Ids(run_salt + ".")
    thread = thread_id if thread_id is not None else ids("thread")
    run = ids("run")
    entities = draw(st.lists(_entities(ids), max_size=max_entities))
    body = _interleave(draw, entities)
    ending = outcome or draw(st.sampled_from(("finished", "error")))
    if ending == "error":
        body = body[: draw(st.integers(0, len(body)))]
        terminal: Event = {"type": "RUN_ERROR", "message": draw(_text)}
        if draw(st.booleans()):
            terminal["code"] = draw(st.sampled_from(("internal", "model_error", "timeout")))
    else:
        terminal = {"type": "RUN_FINISHED", "threadId": thread, "runId": run}
        if draw(st.booleans()):
            terminal["outcome"] = {"type": "success"}
    started: Event = {"type": "RUN_STARTED", "threadId": thread, "runId": run}
    return [_with_timestamp(draw, dict(e)) for e in [started, *body, terminal]]


@st.composite
def agui_streams(draw: st.DrawFn, *, max_runs: int = 2, max_entities: int = 4) -> list[Event]:
    """One to ``max_runs`` valid runs back to back, all on one thread (a stream carries
    the runs of one thread: another ``threadId`` is ``thread_changed``)."""
    count = draw(st.integers(1, max_runs))
    thread = draw(st.sampled_from(("thread-shared", "thr-1", "t")))
    events: list[Event] = []
    for number in range(count):
        events += draw(agui_runs(thread_id=thread, max_entities=max_entities, salt=f"r{number}"))
    return events


@st.composite
def chunked_agui_runs(draw: st.DrawFn, *, max_entities: int = 5) -> tuple[list[Event], list[Event]]:
    """``(chunked, expanded)``: a valid run sent partly as chunk events, and its expansion.

    A text message or tool call sent as chunks is contiguous (a chunk stream is closed
    by the next event that is not one of its chunks); the run may end in ``RUN_ERROR``
    only between such units, so both forms carry the same events.
    """
    ids = _Ids(draw(st.text(_ID_ALPHABET, min_size=1, max_size=4)) + ".")
    thread, run = ids("thread"), ids("run")
    entities = draw(st.lists(_entities(ids), max_size=max_entities))
    # Per entity, its units in order: (plain events, the same events as sent).
    per_entity: list[list[tuple[list[Event], list[Event]]]] = []
    for entity in entities:
        chunker: _Chunker = None
        if entity[0]["type"] == "TEXT_MESSAGE_START":
            chunker = _chunk_text
        elif entity[0]["type"] == "TOOL_CALL_START":
            chunker = _chunk_tool
        if chunker is not None and draw(st.booleans()):
            per_entity.append([(entity, chunker(entity))])
        else:  # one unit per event: free to interleave with the others
            per_entity.append([([e], [e]) for e in entity])
    units = _interleave(draw, per_entity)
    if draw(st.booleans()):
        units = units[: draw(st.integers(0, len(units)))]
        terminal: Event = {"type": "RUN_ERROR", "message": "cut"}
    else:
        terminal = {"type": "RUN_FINISHED", "threadId": thread, "runId": run}
    started: Event = {"type": "RUN_STARTED", "threadId": thread, "runId": run}
    plain = [e for unit, _ in units for e in unit]
    chunked = [e for _, unit in units for e in unit]
    return [started, *chunked, terminal], [started, *plain, terminal]
