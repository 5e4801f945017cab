"""Where each contract violation points, and what its message shows of the bad value.

Written from mutation testing (see docs/testing.md): the contract tests elsewhere check
each rule and a message fragment, so a violation that lost its event index or run, a
message that no longer shows the offending value, or a check that stopped early after
one odd event went unnoticed. Test authors fix streams from these messages alone.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from golden_path.ids import UserID
from golden_path.protocol import EventType
from golden_path.testing.v1 import fields
from golden_path.testing.v1.contract import check_events

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="A violation that points at the wrong event, or hides the value it "
        "rejected, sends whoever debugs a broken stream to the wrong place.",
        revenue_impact="Indirect: faster diagnosis of broken event streams keeps chat answers "
        "reliable on every tier; no direct revenue of its own.",
    ),
]

Event = dict[str, Any]


def _id(prefix: str, digit: str) -> str:
    return prefix + digit * 32


USER = _id("usr_", "a")
RUN_A, RUN_B = _id("run_", "a"), _id("run_", "b")
THREAD_A, THREAD_B = _id("thr_", "a"), _id("thr_", "b")
TC = _id("tc_", "1")

_OWN: dict[EventType, Event] = {
    EventType.AGENT_STARTED: {"message_id": _id("msg_", "a")},
    EventType.AGENT_THINKING: {"reasoning": "look at usage", "step": 1},
    EventType.TOOL_EXECUTING: {"tool_call_id": TC, "tool_name": "usage_analyzer", "parameters": {}},
    EventType.TOOL_COMPLETED: {
        "tool_call_id": TC,
        "tool_name": "usage_analyzer",
        "results": {},
        "success": True,
        "duration_ms": 4.5,
    },
    EventType.AGENT_COMPLETED: {
        "final_response": "You spent $12.",
        "result": {},
        "usage": {"input_tokens": 1, "output_tokens": 2, "cost_usd": 0.5},
        "duration_ms": 900,
    },
    EventType.AGENT_ERROR: {"code": "internal", "message": "boom", "retryable": False},
}
GOLDEN = (
    EventType.AGENT_STARTED,
    EventType.AGENT_THINKING,
    EventType.TOOL_EXECUTING,
    EventType.TOOL_COMPLETED,
    EventType.AGENT_COMPLETED,
)


def build(*kinds: EventType, run_id: str = RUN_A, first_seq: int = 1) -> list[Event]:
    """Well-formed events of one run, seq numbered from ``first_seq``, unique event ids."""
    return [
        {
            "type": kind.value,
            "seq": first_seq + number,
            "event_id": _id("evt_", "0")[:-4] + f"{first_seq + number:04x}",
            "user_id": USER,
            "thread_id": THREAD_A if run_id == RUN_A else THREAD_B,
            "run_id": run_id,
            "request_id": "req_" + run_id[-1],
            "agent_name": "golden_agent",
            "timestamp": f"2026-11-24T03:10:{number % 60:02d}.123Z",
            **copy.deepcopy(_OWN[kind]),
        }
        for number, kind in enumerate(kinds)
    ]


def golden() -> list[Event]:
    return build(*GOLDEN)


def edit(events: list[Event], index: int, **fields: Any) -> list[Event]:
    events[index].update(fields)
    return events


def drop(events: list[Event], index: int, field: str) -> list[Event]:
    del events[index][field]
    return events


def where(events: list[Any], **options: Any) -> list[tuple[str, int | None, str | None]]:
    return [(v.rule, v.index, v.run_id) for v in check_events(events, **options)]


def messages(events: list[Any], **options: Any) -> list[str]:
    return [v.message for v in check_events(events, **options)]


S, T, X, C, D, E = (
    EventType.AGENT_STARTED,
    EventType.AGENT_THINKING,
    EventType.TOOL_EXECUTING,
    EventType.TOOL_COMPLETED,
    EventType.AGENT_COMPLETED,
    EventType.AGENT_ERROR,
)


# --- every violation carries the index and run of the event it is about

LOCATED: list[Any] = [
    pytest.param(
        edit(golden(), 2, type="agent_dreaming"),
        {"require_complete": False},
        [("unknown_type", 2, RUN_A), ("tool_unpaired", 3, RUN_A)],
        id="unknown-type",
    ),
    pytest.param(
        edit(golden(), 3, duration_ms=-1),
        {},
        [("bad_field", 3, RUN_A)],
        id="bad-field",
    ),
    pytest.param(
        edit(golden(), 3, event_id=golden()[1]["event_id"]),
        {},
        [("duplicate_event_id", 3, RUN_A)],
        id="duplicate-event-id",
    ),
    pytest.param(
        golden(),
        {"first_seq": 7},
        [("seq_gap", 0, RUN_A)],
        id="first-seq",
    ),
    pytest.param(
        edit(edit(golden(), 3, seq=3), 4, seq=4),
        {},
        [("seq_not_increasing", 3, RUN_A)],
        id="seq-back",
    ),
    pytest.param(
        edit(golden(), 3, thread_id=THREAD_B),
        {},
        [("inconsistent_id", 3, RUN_A)],
        id="inconsistent-id",
    ),
    pytest.param(
        build(T, X, C, D),
        {},
        [("started_not_first", 0, RUN_A)],
        id="started-missing",
    ),
    pytest.param(
        build(S, T, S, X, C, D),
        {},
        [("started_not_first", 2, RUN_A)],
        id="started-again",
    ),
    pytest.param(
        build(*GOLDEN, E),
        {},
        [("multiple_terminal", 5, RUN_A)],
        id="second-terminal",
    ),
    pytest.param(
        build(*GOLDEN, T),
        {},
        [("after_terminal", 5, RUN_A)],
        id="after-terminal",
    ),
    pytest.param(
        build(*GOLDEN, T, E),
        {},
        [("after_terminal", 5, RUN_A), ("multiple_terminal", 6, RUN_A)],
        id="each-event-after-terminal",
    ),
    pytest.param(
        build(S, T, X, X, C, D),
        {},
        [("duplicate_tool_call", 3, RUN_A)],
        id="executing-twice",
    ),
    pytest.param(
        build(S, T, X, C, C, D),
        {},
        [("duplicate_tool_call", 4, RUN_A)],
        id="completed-twice",
    ),
    pytest.param(
        edit(golden(), 3, tool_name="cost_optimizer"),
        {},
        [("tool_mismatch", 3, RUN_A)],
        id="tool-mismatch",
    ),
    pytest.param(
        build(S, T, X),
        {},
        [("no_terminal", 2, RUN_A)],
        id="no-terminal",
    ),
    pytest.param(
        build(S, T, X, D),
        {},
        [("tool_unpaired", 2, RUN_A)],
        id="never-completed",
    ),
    pytest.param(
        build(S, X, C, D),
        {},
        [("no_thinking", 3, RUN_A)],
        id="no-thinking",
    ),
    pytest.param(
        build(S, T, D),
        {},
        [("missing_golden_type", 2, RUN_A)],
        id="no-tools",
    ),
    pytest.param(
        [*golden(), "oops"],
        {},
        [("not_an_object", 5, None)],
        id="not-an-object",
    ),
]


@pytest.mark.parametrize(("events", "options", "expected"), LOCATED)
def test_each_violation_points_at_its_event_and_run(
    events: list[Any], options: dict[str, Any], expected: list[tuple[str, int, str | None]]
) -> None:
    assert where(events, **options) == expected


def test_a_run_id_that_is_not_a_string_is_not_reported_as_a_run() -> None:
    events = edit(golden(), 0, run_id=7)
    assert where(events) == [("bad_field", 0, None), ("started_not_first", 1, RUN_A)]
    assert messages(events)[0].endswith(" (agent_started)")


def test_an_event_with_neither_known_type_nor_run_gets_no_location_suffix() -> None:
    events = [{"type": "agent_dreaming"}]
    assert messages(events)[0] == "event #0: unknown type 'agent_dreaming'"


# --- one odd event does not stop the checks of the others


def test_a_missing_field_does_not_stop_the_checks_of_the_later_fields() -> None:
    events = edit(drop(golden(), 1, "event_id"), 1, timestamp="yesterday")
    assert where(events) == [("missing_field", 1, RUN_A), ("bad_field", 1, RUN_A)]


def test_an_event_id_that_is_not_a_string_does_not_stop_duplicate_detection() -> None:
    events = golden()
    events[1]["event_id"] = 17
    events[4]["event_id"] = events[3]["event_id"]
    assert where(events) == [("bad_field", 1, RUN_A), ("duplicate_event_id", 4, RUN_A)]


def test_a_bad_run_scoped_id_does_not_stop_the_consistency_check() -> None:
    events = edit(edit(golden(), 1, thread_id="thr_bad"), 3, thread_id=THREAD_B)
    assert where(events) == [("bad_field", 1, RUN_A), ("inconsistent_id", 3, RUN_A)]


def test_a_tool_call_without_a_valid_id_does_not_stop_the_order_checks() -> None:
    events = build(S, T, X, X, C, D)
    events[2]["tool_call_id"] = "tc_bad"
    assert where(events) == [("bad_field", 2, RUN_A)]


def test_a_non_object_does_not_stop_the_checks_of_the_later_events() -> None:
    events = ["oops", *build(T, D)]
    assert where(events) == [
        ("not_an_object", 0, None),
        ("started_not_first", 1, RUN_A),
        ("missing_golden_type", 2, RUN_A),
    ]


# --- messages show the value that was rejected

USAGE = {"input_tokens": 1, "output_tokens": 2, "cost_usd": 0.5}
SUFFIX = f" ({{}} of run {RUN_A})"


@pytest.mark.parametrize(
    ("index", "fields", "expected"),
    [
        (1, {"step": "x" * 78}, f"field 'step' must be an integer ≥ 1, got str '{'x' * 78}'"),
        (
            1,
            {"step": "x" * 79},
            f"field 'step' must be an integer ≥ 1, got str '{'x' * 76}...",
        ),
        (
            0,
            {"timestamp": 1_700_000_000},
            "field 'timestamp' must be an RFC 3339 UTC timestamp with milliseconds "
            "(2026-11-24T03:10:00.123Z), got int 1700000000",
        ),
        (
            0,
            {"timestamp": "2026-11-24 03:10:00.123Z"},
            "field 'timestamp' must be an RFC 3339 UTC timestamp with milliseconds "
            "(2026-11-24T03:10:00.123Z), got str '2026-11-24 03:10:00.123Z'",
        ),
        (
            0,
            {"timestamp": "2026-02-30T03:10:00.123Z"},
            "field 'timestamp' must be an RFC 3339 UTC timestamp with milliseconds "
            "(2026-11-24T03:10:00.123Z), got an impossible date '2026-02-30T03:10:00.123Z'",
        ),
        (
            4,
            {"usage": {**USAGE, "input_tokens": -1}},
            "field 'usage' 'input_tokens' must be an integer ≥ 0, got int -1",
        ),
        (
            4,
            {"usage": {**USAGE, "cost_usd": "0.5"}},
            "field 'usage' 'cost_usd' must be a finite number ≥ 0, got str '0.5'",
        ),
        (4, {"duration_ms": -1}, "field 'duration_ms' must be a finite number ≥ 0, got int -1"),
        (4, {"usage": [1, 2]}, "field 'usage' must be an object, got list [1, 2]"),
        (4, {"upgrade": "mid"}, "field 'upgrade' must be an object or null, got str 'mid'"),
        (
            4,
            {"upgrade": {"required_tier": "gold", "feature": "f", "message": "m"}},
            "field 'upgrade' 'required_tier' must be one of free, early, mid, enterprise, "
            "got str 'gold'",
        ),
        (
            0,
            {"user_id": "usr_1"},
            "field 'user_id' must be a valid UserID ('usr_' followed by 32 lowercase hex "
            "digits), got str 'usr_1'",
        ),
    ],
)
def test_a_bad_field_message_shows_the_rejected_value(
    index: int, fields: dict[str, Any], expected: str
) -> None:
    events = edit(golden(), index, **fields)
    kind = events[index]["type"]
    assert messages(events) == [f"event #{index}: {expected}" + SUFFIX.format(kind)]


def test_a_bad_error_code_message_lists_the_codes_and_the_value() -> None:
    events = edit(build(S, E), 1, code="boom")
    assert messages(events) == [
        "event #1: field 'code' must be one of cancelled, timeout, interrupted, internal, "
        "got str 'boom'" + SUFFIX.format("agent_error")
    ]


def test_a_duplicate_event_id_names_where_it_first_appeared() -> None:
    events = edit(golden(), 3, event_id=golden()[1]["event_id"])
    assert messages(events) == [
        f"event #3: duplicate event_id {events[1]['event_id']} (first at event #1)"
        + SUFFIX.format("tool_completed")
    ]


def test_a_non_object_message_shows_the_value() -> None:
    assert messages(["oops"]) == ["event #0: not a JSON object, got str 'oops'"]


def test_an_identifier_check_names_its_kind_format_and_the_value() -> None:
    check = fields._id_check(UserID)
    assert check(str(UserID.new())) is None
    assert check("usr_1") == (
        "must be a valid UserID ('usr_' followed by 32 lowercase hex digits), got str 'usr_1'"
    )
