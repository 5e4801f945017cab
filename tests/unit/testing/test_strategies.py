"""The harness's hypothesis strategies yield what the protocol's own types accept."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import find as _find
from hypothesis import strategies as st

from golden_path.context import UserContext
from golden_path.ids import (
    ALL_ID_TYPES,
    ConnectionID,
    EventID,
    MessageID,
    RequestID,
    RunID,
    ThreadID,
    ToolCallID,
    UserID,
)
from golden_path.protocol import COMMON_EVENT_FIELDS, EventType
from golden_path.testing.v1 import strategies as gs
from golden_path.testing.v1.contract import check_events, split_runs
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Property tests across the harness draw ids, contexts and event streams from "
            "these strategies; a strategy yielding malformed ids or invalid streams would "
            "make those tests fail spuriously or, worse, test the wrong thing."
        ),
        revenue_impact=(
            "Indirect: keeps the harness's property tests meaningful, which protects the "
            "stability of the golden path on every tier; no direct revenue."
        ),
    ),
]

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_T = TypeVar("_T")


def find(strategy: st.SearchStrategy[_T], condition: Callable[[_T], bool]) -> _T:
    """The first generated example meeting ``condition`` (no shrinking: fast, and any will do)."""
    return _find(
        strategy,
        condition,
        settings=settings(phases=[Phase.generate], max_examples=500, database=None),
    )


ID_STRATEGIES: list[Any] = [
    pytest.param(gs.user_ids, UserID, id="user"),
    pytest.param(gs.thread_ids, ThreadID, id="thread"),
    pytest.param(gs.run_ids, RunID, id="run"),
    pytest.param(gs.message_ids, MessageID, id="message"),
    pytest.param(gs.event_ids, EventID, id="event"),
    pytest.param(gs.connection_ids, ConnectionID, id="connection"),
    pytest.param(gs.tool_call_ids, ToolCallID, id="tool-call"),
    pytest.param(gs.request_ids, RequestID, id="request"),
]
# Every kind but RequestID: a prefix and 32 lowercase hex digits.
PREFIXED = [t for t in ALL_ID_TYPES if t is not RequestID]


@pytest.mark.parametrize(("strategy", "kind"), ID_STRATEGIES)
def test_identifier_strategies_yield_valid_typed_ids(strategy: Any, kind: type[str]) -> None:
    @FAST
    @given(strategy())
    def check(value: str) -> None:
        assert type(value) is kind
        assert kind.is_valid(value)  # type: ignore[attr-defined]
        assert kind(str(value)) == value

    check()


@pytest.mark.parametrize(
    ("strategy", "kind"), [p for p in ID_STRATEGIES if p.values[1] is not RequestID]
)
def test_prefixed_kinds_never_validate_as_each_other(strategy: Any, kind: type[str]) -> None:
    others = [t for t in PREFIXED if t is not kind]

    @FAST
    @given(strategy())
    def check(value: str) -> None:
        assert [t.__name__ for t in others if t.is_valid(value)] == []

    check()


@FAST
@given(st.one_of([s.values[0]() for s in ID_STRATEGIES]))
def test_request_id_format_admits_every_prefixed_id(value: str) -> None:
    # A client may send any 1-64 [A-Za-z0-9_-] key, so a value shaped like another kind's
    # id is a valid RequestID; the other direction never holds for server-minted ids.
    assert RequestID.is_valid(value)


@FAST
@given(gs.request_ids(client=False))
def test_server_minted_request_ids_are_only_request_ids(value: RequestID) -> None:
    assert value.startswith(RequestID.prefix)
    assert re.fullmatch(r"req_[0-9a-f]{32}", value)
    assert not any(t.is_valid(value) for t in PREFIXED)


@FAST
@given(gs.request_ids(server=False))
def test_client_request_ids_are_short_safe_keys(value: RequestID) -> None:
    assert 1 <= len(value) <= 64
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value)


def test_request_ids_refuses_to_generate_nothing() -> None:
    with pytest.raises(ValueError, match="client=True or server=True"):
        gs.request_ids(client=False, server=False)


def test_both_request_id_styles_are_generated() -> None:
    client = find(gs.request_ids(), lambda v: not v.startswith("req_"))
    server = find(gs.request_ids(), lambda v: v.startswith("req_") and len(v) == 36)
    assert RequestID.is_valid(client)
    assert re.fullmatch(r"req_[0-9a-f]{32}", server)


@pytest.mark.parametrize("tier", list(Tier))
def test_tiers_yield_every_tier(tier: Tier) -> None:
    assert find(gs.tiers(), lambda t: t is tier) is tier


@FAST
@given(gs.user_contexts())
def test_user_contexts_are_valid_and_rebuildable(context: UserContext) -> None:
    assert UserID.is_valid(context.user_id)
    assert isinstance(context.tier, Tier)
    rebuilt = UserContext(
        user_id=UserID(str(context.user_id)),
        tier=Tier.parse(context.tier.value),
        thread_id=context.thread_id,
        run_id=context.run_id,
        request_id=context.request_id,
    )
    assert rebuilt == context


@FAST
@given(gs.user_contexts(tier=Tier.ENTERPRISE))
def test_user_contexts_honour_a_fixed_tier(context: UserContext) -> None:
    assert context.tier is Tier.ENTERPRISE


TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@FAST
@given(gs.valid_run_events())
def test_a_generated_run_is_valid_and_json_clean(run: list[dict[str, Any]]) -> None:
    assert check_events(run, first_seq=1) == []
    assert json.loads(json.dumps(run)) == run
    assert all(type(e[f]) is str for e in run for f in COMMON_EVENT_FIELDS if f != "seq")
    assert all(TIMESTAMP.fullmatch(e["timestamp"]) for e in run)
    assert [e["seq"] for e in run] == list(range(1, len(run) + 1))
    assert run[0]["type"] == EventType.AGENT_STARTED.value


@FAST
@given(gs.valid_run_events(outcome="completed"))
def test_a_completed_run_has_the_documented_shape(run: list[dict[str, Any]]) -> None:
    counts = Counter(e["type"] for e in run)
    assert 1 <= counts[EventType.AGENT_THINKING.value] <= 3
    assert 1 <= counts[EventType.TOOL_EXECUTING.value] <= 3
    assert counts[EventType.TOOL_EXECUTING.value] == counts[EventType.TOOL_COMPLETED.value]
    assert run[-1]["type"] == EventType.AGENT_COMPLETED.value
    assert counts[EventType.AGENT_COMPLETED.value] == 1


@FAST
@given(gs.valid_run_events(outcome="error"))
def test_an_error_run_ends_in_its_only_agent_error(run: list[dict[str, Any]]) -> None:
    kinds = [e["type"] for e in run]
    assert kinds[-1] == EventType.AGENT_ERROR.value
    assert EventType.AGENT_COMPLETED.value not in kinds
    assert kinds.count(EventType.AGENT_ERROR.value) == 1


@FAST
@given(
    gs.valid_run_events(
        user_id="usr_" + "1" * 32,
        thread_id="thr_" + "2" * 32,
        run_id="run_" + "3" * 32,
        request_id="my-key",
        agent_name="fixed_agent",
        first_seq=7,
    )
)
def test_a_generated_run_uses_the_ids_it_is_given(run: list[dict[str, Any]]) -> None:
    assert {e["run_id"] for e in run} == {"run_" + "3" * 32}
    assert {e["user_id"] for e in run} == {"usr_" + "1" * 32}
    assert {e["thread_id"] for e in run} == {"thr_" + "2" * 32}
    assert {(e["request_id"], e["agent_name"]) for e in run} == {("my-key", "fixed_agent")}
    assert run[0]["seq"] == 7
    assert check_events(run, first_seq=7) == []


def test_error_runs_may_stop_with_a_tool_call_open() -> None:
    def open_call(run: list[dict[str, Any]]) -> bool:
        calls = Counter(e["type"] for e in run)
        return calls[EventType.TOOL_EXECUTING.value] > calls[EventType.TOOL_COMPLETED.value]

    run = find(gs.valid_run_events(outcome="error"), open_call)
    assert check_events(run) == []


@FAST
@given(gs.valid_event_streams())
def test_a_stream_numbers_each_user_from_one_and_keeps_ids_unique(
    stream: list[dict[str, Any]],
) -> None:
    seqs: dict[str, list[int]] = {}
    for event in stream:
        seqs.setdefault(event["user_id"], []).append(event["seq"])
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())
    assert len({e["event_id"] for e in stream}) == len(stream)
    runs = split_runs(stream)
    assert len({run[0]["request_id"] for run in runs.values()}) == len(runs)
    assert json.loads(json.dumps(stream)) == stream


def test_streams_interleave_runs_of_one_user_and_of_several_users() -> None:
    def interleaved(stream: list[dict[str, Any]], key: str) -> bool:
        order = [e[key] for e in stream]
        # some value of `key` stops and starts again: A ... B ... A
        return any(
            order[i] != order[i + 1] and order[i] in order[i + 2 :] for i in range(len(order) - 1)
        )

    one_user = find(
        gs.valid_event_streams(max_users=1, min_runs_per_user=2),
        lambda s: interleaved(s, "run_id"),
    )
    assert len({e["user_id"] for e in one_user}) == 1
    assert check_events(one_user, first_seq=1) == []
    two_users = find(
        gs.valid_event_streams(min_users=2, max_users=2), lambda s: interleaved(s, "user_id")
    )
    assert check_events(two_users, first_seq=1) == []


def test_format_timestamp_is_millisecond_utc() -> None:
    from datetime import datetime

    assert gs.format_timestamp(datetime(2026, 11, 24, 3, 10, 0, 123456)) == (
        "2026-11-24T03:10:00.123Z"
    )
