"""``RunScope.event``: the common fields of protocol §5 once, each type's own fields by name."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from golden_path.ids import EventID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import COMMON_EVENT_FIELDS, EVENT_FIELDS, EventType
from golden_path.server.runs.events import RunScope

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every run event carries the identifiers and timestamp clients and the "
        "contract checker rely on to place it in the right thread and run",
        revenue_impact="an event without its run or thread id renders in the wrong chat or "
        "not at all: the answer the customer pays for goes missing",
    ),
]

RFC3339_MS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

SCOPE = RunScope(
    user_id=UserID.new(),
    thread_id=ThreadID.new(),
    run_id=RunID.new(),
    request_id=RequestID("client-req-1"),
    agent_name="cost_agent",
)

OWN_FIELDS: dict[EventType, dict[str, Any]] = {
    EventType.AGENT_STARTED: {"message_id": "msg_" + "a" * 32},
    EventType.AGENT_THINKING: {"reasoning": "reading the workload", "step": 1},
    EventType.TOOL_EXECUTING: {
        "tool_call_id": "tc_" + "b" * 32,
        "tool_name": "usage_analyzer",
        "parameters": {"model": "gpt-4o"},
    },
    EventType.TOOL_COMPLETED: {
        "tool_call_id": "tc_" + "b" * 32,
        "tool_name": "usage_analyzer",
        "results": {"tokens": 2_000_000},
        "success": True,
        "duration_ms": 12,
    },
    EventType.AGENT_COMPLETED: {
        "final_response": "switch to a cheaper model",
        "result": {"savings_usd": 10.5},
        "usage": {"input_tokens": 10, "output_tokens": 20},
        "duration_ms": 40,
    },
    EventType.AGENT_ERROR: {"code": "timeout", "message": "took too long", "retryable": True},
}


def test_the_sample_fields_cover_every_event_type() -> None:
    assert set(OWN_FIELDS) == set(EventType)
    for event_type, sample in OWN_FIELDS.items():
        required = {f for f in EVENT_FIELDS[event_type] if not f.endswith("?")}
        assert set(sample) == required


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_carries_the_common_fields_but_seq(event_type: EventType) -> None:
    event = SCOPE.event(event_type, **OWN_FIELDS[event_type])
    assert "seq" not in event
    assert set(COMMON_EVENT_FIELDS) - {"seq"} <= set(event)
    assert event["type"] == event_type.value
    assert event["user_id"] == SCOPE.user_id
    assert event["thread_id"] == SCOPE.thread_id
    assert event["run_id"] == SCOPE.run_id
    assert event["request_id"] == "client-req-1"
    assert event["agent_name"] == "cost_agent"
    assert EventID.is_valid(event["event_id"])
    assert RFC3339_MS_Z.fullmatch(event["timestamp"])


@pytest.mark.parametrize("event_type", list(EventType))
def test_own_fields_pass_through_unchanged(event_type: EventType) -> None:
    fields = OWN_FIELDS[event_type]
    event = SCOPE.event(event_type, **fields)
    for name, value in fields.items():
        assert event[name] == value
    assert set(event) == (set(COMMON_EVENT_FIELDS) - {"seq"}) | set(fields)


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_event_is_plain_json_types(event_type: EventType) -> None:
    event = SCOPE.event(event_type, **OWN_FIELDS[event_type])
    for name in ("type", "event_id", "user_id", "thread_id", "run_id", "request_id"):
        assert type(event[name]) is str, name


def test_an_optional_field_passes_through() -> None:
    upgrade = {"required_tier": "early", "feature": "cost_optimizer"}
    event = SCOPE.event(
        EventType.AGENT_COMPLETED, **OWN_FIELDS[EventType.AGENT_COMPLETED], upgrade=upgrade
    )
    assert event["upgrade"] == upgrade


def test_event_ids_are_unique() -> None:
    ids = {
        SCOPE.event(EventType.AGENT_THINKING, reasoning="r", step=i)["event_id"] for i in range(200)
    }
    assert len(ids) == 200


def test_the_timestamp_is_now_in_utc() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    event = SCOPE.event(EventType.AGENT_STARTED, message_id="m")
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() == timedelta(0)
    assert before <= stamp <= after


def test_events_of_one_scope_share_its_identifiers_only() -> None:
    other = RunScope(UserID.new(), ThreadID.new(), RunID.new(), RequestID.new(), "cost_agent")
    mine = SCOPE.event(EventType.AGENT_STARTED, message_id="m")
    theirs = other.event(EventType.AGENT_STARTED, message_id="m")
    for name in ("user_id", "thread_id", "run_id", "request_id", "event_id"):
        assert mine[name] != theirs[name]


def test_the_scope_is_immutable() -> None:
    with pytest.raises(AttributeError):
        SCOPE.agent_name = "other"  # type: ignore[misc]
