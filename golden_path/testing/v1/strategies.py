"""Hypothesis strategies for protocol v1 values: identifiers, tiers, contexts and run events.

Identifier strategies yield the typed ids of :mod:`golden_path.ids`.
``valid_run_events`` yields one run that satisfies the event contract
(:mod:`golden_path.testing.v1.contract`); ``valid_event_streams`` yields several
users' runs interleaved, ``seq`` assigned per user from 1. Every event is a
plain JSON-serialisable ``dict``.

Shape of a generated run: ``agent_started``; one ``agent_thinking``; then
0-2 more ``agent_thinking`` and 1-3 tool calls in any order that keeps each
``tool_executing`` before its ``tool_completed`` (tool calls may overlap and
thinking may fall inside a call); then ``agent_completed``. A run with the
``error`` outcome is that shape cut short after any number of body events
(possibly leaving a tool call open) and ended by an ``agent_error``.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from hypothesis import strategies as st

from golden_path.context import UserContext
from golden_path.ids import (
    ConnectionID,
    EventID,
    MessageID,
    RequestID,
    RunID,
    ThreadID,
    ToolCallID,
    UserID,
)
from golden_path.protocol import AgentErrorCode, EventType
from golden_path.tiers import Tier, Tool

__all__ = [
    "AGENT_NAMES",
    "Outcome",
    "connection_ids",
    "event_ids",
    "format_timestamp",
    "message_ids",
    "request_ids",
    "run_ids",
    "thread_ids",
    "tiers",
    "tool_call_ids",
    "user_contexts",
    "user_ids",
    "valid_event_streams",
    "valid_run_events",
]

Outcome = Literal["completed", "error"]
Event = dict[str, Any]

AGENT_NAMES: tuple[str, ...] = ("golden_agent", "cost_agent", "triage_agent")

_T = TypeVar("_T", bound=str)
_CLIENT_KEY_ALPHABET = string.ascii_letters + string.digits + "_-"
_EPOCH_MIN = datetime(2020, 1, 1)
_EPOCH_MAX = datetime(2035, 12, 31)


# --- identifiers


def _prefixed(make: Callable[[str], _T], prefix: str) -> st.SearchStrategy[_T]:
    return st.integers(min_value=0, max_value=2**128 - 1).map(lambda n: make(f"{prefix}{n:032x}"))


def user_ids() -> st.SearchStrategy[UserID]:
    return _prefixed(UserID, UserID.prefix)


def thread_ids() -> st.SearchStrategy[ThreadID]:
    return _prefixed(ThreadID, ThreadID.prefix)


def run_ids() -> st.SearchStrategy[RunID]:
    return _prefixed(RunID, RunID.prefix)


def message_ids() -> st.SearchStrategy[MessageID]:
    return _prefixed(MessageID, MessageID.prefix)


def event_ids() -> st.SearchStrategy[EventID]:
    return _prefixed(EventID, EventID.prefix)


def connection_ids() -> st.SearchStrategy[ConnectionID]:
    return _prefixed(ConnectionID, ConnectionID.prefix)


def tool_call_ids() -> st.SearchStrategy[ToolCallID]:
    return _prefixed(ToolCallID, ToolCallID.prefix)


def request_ids(*, client: bool = True, server: bool = True) -> st.SearchStrategy[RequestID]:
    """Client-chosen keys (1-64 of ``[A-Za-z0-9_-]``) and/or server-minted ``req_`` ids."""
    if not (client or server):
        raise ValueError("request_ids() needs client=True or server=True")
    options: list[st.SearchStrategy[RequestID]] = []
    if client:
        options.append(
            st.text(alphabet=_CLIENT_KEY_ALPHABET, min_size=1, max_size=64).map(RequestID)
        )
    if server:
        options.append(_prefixed(RequestID, RequestID.prefix))
    return st.one_of(options)


def tiers() -> st.SearchStrategy[Tier]:
    return st.sampled_from(Tier)


def user_contexts(*, tier: Tier | None = None) -> st.SearchStrategy[UserContext]:
    """Contexts with any (or the given) tier; thread, run and request each present or not."""
    return st.builds(
        UserContext,
        user_id=user_ids(),
        tier=tiers() if tier is None else st.just(tier),
        thread_id=st.none() | thread_ids(),
        run_id=st.none() | run_ids(),
        request_id=st.none() | request_ids(),
    )


# --- payloads


def format_timestamp(moment: datetime) -> str:
    """``2026-11-24T03:10:00.123Z``: RFC 3339, UTC, millisecond precision (naive = UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
)
_json_objects: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12),
    _json_scalars,
    max_size=3,
)
_durations: st.SearchStrategy[int | float] = st.one_of(
    st.integers(min_value=0, max_value=600_000),
    st.floats(min_value=0, max_value=600_000, allow_nan=False, allow_infinity=False),
)


# --- runs

_Token = tuple[EventType, int]  # (type, tool index or -1)


@dataclass
class _Plan:
    """The shape of one run before ids and payloads are drawn."""

    tokens: list[_Token]
    tools: int
    error_code: AgentErrorCode | None = None
    tool_names: list[str] = field(default_factory=list)


@st.composite
def _plans(draw: st.DrawFn, outcome: Outcome | None) -> _Plan:
    tools = draw(st.integers(min_value=1, max_value=3))
    extra_thinking = draw(st.integers(min_value=0, max_value=2))
    slots: list[_Token] = [(EventType.AGENT_THINKING, -1)] * extra_thinking
    for tool in range(tools):
        slots += [(EventType.TOOL_EXECUTING, tool), (EventType.TOOL_COMPLETED, tool)]
    order = draw(st.permutations(slots))
    # Each call's first slot is its tool_executing, its second its tool_completed.
    opened: set[int] = set()
    body: list[_Token] = [(EventType.AGENT_THINKING, -1)]
    for kind, tool in order:
        if kind is EventType.AGENT_THINKING:
            body.append((kind, tool))
        elif tool in opened:
            body.append((EventType.TOOL_COMPLETED, tool))
        else:
            opened.add(tool)
            body.append((EventType.TOOL_EXECUTING, tool))
    ends = draw(st.sampled_from(("completed", "error")) if outcome is None else st.just(outcome))
    code: AgentErrorCode | None = None
    if ends == "error":
        body = body[: draw(st.integers(min_value=0, max_value=len(body)))]
        code = draw(st.sampled_from(AgentErrorCode))
        terminal: _Token = (EventType.AGENT_ERROR, -1)
    else:
        terminal = (EventType.AGENT_COMPLETED, -1)
    names = draw(st.lists(st.sampled_from(Tool), min_size=tools, max_size=tools))
    return _Plan(
        tokens=[(EventType.AGENT_STARTED, -1), *body, terminal],
        tools=tools,
        error_code=code,
        tool_names=[n.value for n in names],
    )


def _build_run(
    draw: st.DrawFn,
    plan: _Plan,
    *,
    common: dict[str, str],
    message_id: str,
    event_id_pool: Iterator[str],
    tool_call_id_pool: Iterator[str],
) -> list[Event]:
    """Turn a plan into events (``seq`` 0: the caller numbers them); ids become plain ``str``."""
    calls = [str(next(tool_call_id_pool)) for _ in range(plan.tools)]
    moment = draw(st.datetimes(min_value=_EPOCH_MIN, max_value=_EPOCH_MAX))
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    step = 0
    events: list[Event] = []
    for kind, tool in plan.tokens:
        moment += timedelta(milliseconds=draw(st.integers(min_value=0, max_value=5_000)))
        event: Event = {
            "type": kind.value,
            "seq": 0,  # numbered by the caller
            "event_id": str(next(event_id_pool)),
            **{key: str(value) for key, value in common.items()},
            "timestamp": format_timestamp(moment),
        }
        if kind is EventType.AGENT_STARTED:
            event["message_id"] = str(message_id)
        elif kind is EventType.AGENT_THINKING:
            step += 1
            event["reasoning"] = draw(st.text(max_size=40))
            event["step"] = step
        elif kind is EventType.TOOL_EXECUTING:
            event["tool_call_id"] = calls[tool]
            event["tool_name"] = plan.tool_names[tool]
            event["parameters"] = draw(_json_objects)
        elif kind is EventType.TOOL_COMPLETED:
            event["tool_call_id"] = calls[tool]
            event["tool_name"] = plan.tool_names[tool]
            event["results"] = draw(_json_objects)
            event["success"] = draw(st.booleans())
            event["duration_ms"] = draw(_durations)
        elif kind is EventType.AGENT_COMPLETED:
            event["final_response"] = draw(st.text(max_size=60))
            event["result"] = draw(_json_objects)
            event["usage"] = {
                "input_tokens": draw(st.integers(min_value=0, max_value=200_000)),
                "output_tokens": draw(st.integers(min_value=0, max_value=200_000)),
                "cost_usd": draw(st.floats(min_value=0, max_value=100, allow_nan=False)),
            }
            event["duration_ms"] = draw(_durations)
            if draw(st.booleans()):
                event["upgrade"] = {
                    "required_tier": draw(tiers()).value,
                    "feature": draw(st.sampled_from(Tool)).value,
                    "message": draw(st.text(max_size=40)),
                }
        else:  # agent_error
            assert plan.error_code is not None
            event["code"] = plan.error_code.value
            event["message"] = draw(st.text(max_size=40))
            event["retryable"] = draw(st.booleans())
        events.append(event)
    return events


def _unique(strategy: st.SearchStrategy[_T], count: int) -> st.SearchStrategy[list[_T]]:
    return st.lists(strategy, min_size=count, max_size=count, unique=True)


@st.composite
def valid_run_events(
    draw: st.DrawFn,
    *,
    outcome: Outcome | None = None,
    user_id: str | None = None,
    thread_id: str | None = None,
    run_id: str | None = None,
    request_id: str | None = None,
    agent_name: str | None = None,
    first_seq: int = 1,
) -> list[Event]:
    """One valid run, ``seq`` numbered from ``first_seq``; ids not given are drawn.

    ``outcome``: ``"completed"``, ``"error"`` or either (``None``).
    """
    plan = draw(_plans(outcome))
    common = {
        "user_id": user_id if user_id is not None else draw(user_ids()),
        "thread_id": thread_id if thread_id is not None else draw(thread_ids()),
        "run_id": run_id if run_id is not None else draw(run_ids()),
        "request_id": request_id if request_id is not None else draw(request_ids()),
        "agent_name": agent_name if agent_name is not None else draw(st.sampled_from(AGENT_NAMES)),
    }
    events = _build_run(
        draw,
        plan,
        common=common,
        message_id=draw(message_ids()),
        event_id_pool=iter(draw(_unique(event_ids(), len(plan.tokens)))),
        tool_call_id_pool=iter(draw(_unique(tool_call_ids(), plan.tools))),
    )
    for offset, event in enumerate(events):
        event["seq"] = first_seq + offset
    return events


@st.composite
def valid_event_streams(
    draw: st.DrawFn,
    *,
    min_users: int = 1,
    max_users: int = 3,
    min_runs_per_user: int = 1,
    max_runs_per_user: int = 3,
    outcome: Outcome | None = None,
) -> list[Event]:
    """Several users' valid runs, interleaved; ``seq`` counts each user's events from 1.

    Each run has its own run, request and message ids; a user's runs share one
    or two threads; every event, run and tool-call id in the stream is unique.
    """
    users = draw(_unique(user_ids(), draw(st.integers(min_users, max_users))))
    run_owner: list[int] = []
    for user in range(len(users)):
        run_owner += [user] * draw(st.integers(min_runs_per_user, max_runs_per_user))
    plans = [draw(_plans(outcome)) for _ in run_owner]
    threads = draw(_unique(thread_ids(), 2 * len(users)))
    runs_ids = draw(_unique(run_ids(), len(plans)))
    requests = draw(_unique(request_ids(), len(plans)))
    messages = draw(_unique(message_ids(), len(plans)))
    event_id_pool = iter(draw(_unique(event_ids(), sum(len(p.tokens) for p in plans))))
    tool_call_id_pool = iter(draw(_unique(tool_call_ids(), sum(p.tools for p in plans))))

    runs: list[list[Event]] = []
    for number, (owner, plan) in enumerate(zip(run_owner, plans, strict=True)):
        common = {
            "user_id": users[owner],
            "thread_id": threads[2 * owner + draw(st.integers(0, 1))],
            "run_id": runs_ids[number],
            "request_id": requests[number],
            "agent_name": draw(st.sampled_from(AGENT_NAMES)),
        }
        runs.append(
            _build_run(
                draw,
                plan,
                common=common,
                message_id=messages[number],
                event_id_pool=event_id_pool,
                tool_call_id_pool=tool_call_id_pool,
            )
        )

    # Interleave: a random order of run numbers, each repeated once per event of that run.
    picks = draw(st.permutations([n for n, run in enumerate(runs) for _ in run]))
    cursors = [iter(run) for run in runs]
    stream = [next(cursors[n]) for n in picks]
    next_seq: dict[str, int] = {}
    for event in stream:
        user = event["user_id"]
        event["seq"] = next_seq.get(user, 1)
        next_seq[user] = event["seq"] + 1
    return stream
