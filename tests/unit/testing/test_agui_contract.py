"""Example-based tests of the AG-UI checker: the rules the properties do not reach, and messages."""

from __future__ import annotations

from typing import Any

import pytest

from golden_path.testing.agui.contract import (
    Stage,
    assert_agui_events,
    check_agui_events,
    expand_chunks,
    read_stages,
)
from golden_path.testing.v1.contract import ContractViolation

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Every AG-UI conformance test judges a peer's stream with this checker; a rule it "
            "got wrong would fail a correct agent framework or pass a broken one."
        ),
        revenue_impact=(
            "Indirect: customers building on pydantic-ai, LangGraph or CrewAI can trust the "
            "harness's AG-UI verdicts; no direct revenue."
        ),
    ),
]

Event = dict[str, Any]
START: Event = {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"}
FINISH: Event = {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r1"}
ERROR: Event = {"type": "RUN_ERROR", "message": "boom"}

# Recorded from examples/agui-pydantic-ai (pydantic-ai 2.68's adapter), a run with a tool
# call; ids shortened. Note the empty TEXT_MESSAGE_START/END pair before the tool call.
PYDANTIC_AI_TOOL_RUN: list[Event] = [
    {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1", "protocolVersion": "1.0"},
    {"type": "REASONING_START", "messageId": "d0"},
    {"type": "REASONING_MESSAGE_START", "messageId": "d0", "role": "reasoning"},
    {"type": "REASONING_MESSAGE_CONTENT", "messageId": "d0", "delta": "the tool knows."},
    {"type": "REASONING_MESSAGE_END", "messageId": "d0"},
    {"type": "REASONING_END", "messageId": "d0"},
    {"type": "TEXT_MESSAGE_START", "messageId": "65", "role": "assistant"},
    {"type": "TEXT_MESSAGE_END", "messageId": "65"},
    {
        "type": "TOOL_CALL_START",
        "toolCallId": "pyd_ai_43",
        "toolCallName": "get_weather",
        "parentMessageId": "65",
    },
    {"type": "TOOL_CALL_ARGS", "toolCallId": "pyd_ai_43", "delta": '{"city": "Paris"}'},
    {"type": "TOOL_CALL_END", "toolCallId": "pyd_ai_43"},
    {
        "type": "TOOL_CALL_RESULT",
        "messageId": "b9",
        "toolCallId": "pyd_ai_43",
        "content": "sunny, 21 °C",
        "role": "tool",
    },
    {"type": "TEXT_MESSAGE_START", "messageId": "a1", "role": "assistant"},
    {"type": "TEXT_MESSAGE_CONTENT", "messageId": "a1", "delta": "It is sunny."},
    {"type": "TEXT_MESSAGE_END", "messageId": "a1"},
    {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r1", "outcome": {"type": "success"}},
]


def found(events: list[Any], **options: Any) -> list[tuple[str, int | None]]:
    return [(v.rule, v.index) for v in check_agui_events(events, **options)]


def test_a_recorded_pydantic_ai_run_passes_and_shows_all_five_stages() -> None:
    assert_agui_events(
        PYDANTIC_AI_TOOL_RUN,
        thread_id="t1",
        run_id="r1",
        stages=[Stage.THINKING, Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED],
    )
    assert read_stages(PYDANTIC_AI_TOOL_RUN) == (
        Stage.STARTED,
        Stage.THINKING,
        Stage.TOOL_EXECUTING,
        Stage.TOOL_COMPLETED,
        Stage.COMPLETED,
    )


def test_messages_name_the_run_the_entity_and_the_event() -> None:
    events = [START, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m9", "delta": "x"}, FINISH]
    (violation,) = check_agui_events(events)
    assert violation.rule == "message_not_started"
    assert violation.run_id == "r1"
    assert violation.index == 1
    assert (
        violation.message == "run r1: TEXT_MESSAGE_CONTENT m9 without TEXT_MESSAGE_START (event #1)"
    )
    assert str(violation).startswith("message_not_started: ")


def test_an_open_entity_is_reported_at_run_finished_naming_where_it_opened() -> None:
    events = [START, {"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "t"}, FINISH]
    (violation,) = check_agui_events(events)
    assert (violation.rule, violation.index) == ("tool_call_not_ended", 2)
    assert "tool call c1 (event #1) not ended before RUN_FINISHED (event #2)" in violation.message


def test_assert_raises_listing_every_violation() -> None:
    events = [
        {"type": "TEXT_MESSAGE_END", "messageId": "m1"},
        {"type": "STEP_FINISHED", "stepName": "plan"},
    ]
    with pytest.raises(ContractViolation) as caught:
        assert_agui_events(events)
    assert [v.rule for v in caught.value.violations] == [
        "run_not_started",
        "message_not_started",
        "step_not_started",
        "no_terminal",
    ]
    assert str(caught.value).count("\n") == 3


def test_a_stream_may_fail_before_it_starts_but_may_not_be_empty() -> None:
    assert found([ERROR]) == []
    assert found([]) == [("run_not_started", None)]
    assert found([], require_complete=False) == []


def test_an_unfinished_stream_passes_only_when_completeness_is_waived() -> None:
    events = [START, {"type": "TEXT_MESSAGE_START", "messageId": "m1"}]
    assert found(events) == [("no_terminal", 1)]
    assert found(events, require_complete=False) == []


def test_runs_may_follow_one_another_but_not_overlap() -> None:
    second = [
        {"type": "RUN_STARTED", "threadId": "t1", "runId": "r2"},
        {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r2"},
    ]
    assert found([START, FINISH, *second]) == []
    assert found([START, ERROR, *second]) == []
    assert found([START, *second]) == [("run_already_active", 1), ("inconsistent_id", 2)]


def test_after_run_finished_only_run_error_or_a_new_run_may_follow() -> None:
    """As the AG-UI client's verifier: RUN_ERROR after RUN_FINISHED is accepted."""
    assert found([START, FINISH, ERROR]) == []
    assert found([START, FINISH, {"type": "CUSTOM", "name": "n", "value": 1}]) == [
        ("after_terminal", 2)
    ]
    assert found([START, ERROR, FINISH]) == [("after_terminal", 2)]
    assert found([START, ERROR, ERROR]) == [("after_terminal", 2)]


def test_steps_are_paired_per_subagent() -> None:
    parent = {"type": "STEP_STARTED", "stepName": "tools"}
    child = {"type": "STEP_STARTED", "stepName": "tools", "subagentRunId": "s1"}
    child_done = {"type": "STEP_FINISHED", "stepName": "tools", "subagentRunId": "s1"}
    parent_done = {"type": "STEP_FINISHED", "stepName": "tools"}
    assert found([START, parent, child, child_done, parent_done, FINISH]) == []
    assert found([START, parent, parent, parent_done, FINISH]) == [("step_already_started", 2)]
    assert found([START, parent, FINISH]) == [("step_not_finished", 2)]


def test_subagents_start_once_and_finish_before_the_run() -> None:
    started = {"type": "SUBAGENT_STARTED", "subagentRunId": "s1", "name": "researcher"}
    finished = {"type": "SUBAGENT_FINISHED", "subagentRunId": "s1"}
    orphan = {
        "type": "SUBAGENT_STARTED",
        "subagentRunId": "s2",
        "name": "x",
        "parentSubagentRunId": "s9",
    }
    assert found([START, started, finished, FINISH]) == []
    assert found([START, started, finished, started, FINISH]) == [("subagent_already_started", 3)]
    assert found([START, finished, FINISH]) == [("subagent_not_started", 1)]
    assert found([START, orphan, FINISH]) == [("subagent_not_started", 1)]
    assert found([START, started, FINISH]) == [("subagent_not_finished", 2)]


def test_legacy_thinking_events_are_paired_and_count_as_thinking() -> None:
    thinking = [
        {"type": "THINKING_START"},
        {"type": "THINKING_TEXT_MESSAGE_START"},
        {"type": "THINKING_TEXT_MESSAGE_CONTENT", "delta": "hmm"},
        {"type": "THINKING_TEXT_MESSAGE_END"},
        {"type": "THINKING_END"},
    ]
    assert found([START, *thinking, FINISH]) == []
    assert Stage.THINKING in read_stages([START, *thinking, FINISH])
    assert found([START, thinking[1], FINISH]) == [("reasoning_not_started", 1)]
    assert found([START, thinking[0], thinking[0], thinking[4], FINISH]) == [
        ("reasoning_already_started", 2)
    ]
    assert found([START, thinking[0], FINISH]) == [("reasoning_not_ended", 2)]
    assert found([START, *thinking[:3], ERROR]) == []
    bad_delta = {"type": "THINKING_TEXT_MESSAGE_CONTENT", "delta": 7}
    assert found([START, thinking[0], thinking[1], bad_delta]) == [
        ("invalid_event", 3),
        ("no_terminal", 2),
    ]


def test_chunks_expand_as_the_client_transformer_does() -> None:
    events = [
        START,
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m1", "delta": "Hel"},
        {"type": "TEXT_MESSAGE_CHUNK", "delta": "lo"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m2"},
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c1", "toolCallName": "t", "delta": "{}"},
        {"type": "TOOL_CALL_RESULT", "messageId": "m3", "toolCallId": "c1", "content": "ok"},
        {"type": "REASONING_MESSAGE_CHUNK", "messageId": "r1", "delta": "so"},
        FINISH,
    ]
    assert [
        (e["type"], e.get("messageId") or e.get("toolCallId")) for e in expand_chunks(events)
    ] == [
        ("RUN_STARTED", None),
        ("TEXT_MESSAGE_START", "m1"),
        ("TEXT_MESSAGE_CONTENT", "m1"),
        ("TEXT_MESSAGE_CONTENT", "m1"),
        ("TEXT_MESSAGE_END", "m1"),
        ("TEXT_MESSAGE_START", "m2"),
        ("TEXT_MESSAGE_END", "m2"),
        ("TOOL_CALL_START", "c1"),
        ("TOOL_CALL_ARGS", "c1"),
        ("TOOL_CALL_END", "c1"),
        ("TOOL_CALL_RESULT", "m3"),
        ("REASONING_MESSAGE_START", "r1"),
        ("REASONING_MESSAGE_CONTENT", "r1"),
        ("REASONING_MESSAGE_END", "r1"),
        ("RUN_FINISHED", None),
    ]
    assert found(events) == []


def test_a_chunk_that_opens_a_stream_needs_its_id() -> None:
    no_id = {"type": "TEXT_MESSAGE_CHUNK", "delta": "x"}
    no_name = {"type": "TOOL_CALL_CHUNK", "toolCallId": "c1", "delta": "{}"}
    violations = check_agui_events([START, no_id, no_name, FINISH])
    assert [(v.rule, v.index) for v in violations] == [
        ("chunk_without_id", 1),
        ("chunk_without_id", 2),
    ]
    assert "must carry messageId" in violations[0].message
    assert "must carry toolCallName" in violations[1].message


def test_a_chunk_stream_left_open_is_closed_by_the_next_event_not_flagged() -> None:
    events = [
        START,
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c1", "toolCallName": "t"},
        {"type": "TEXT_MESSAGE_START", "messageId": "m1"},
        {"type": "TEXT_MESSAGE_END", "messageId": "m1"},
        FINISH,
    ]
    assert [e["type"] for e in expand_chunks(events)][1:4] == [
        "TOOL_CALL_START",
        "TOOL_CALL_END",
        "TEXT_MESSAGE_START",
    ]
    assert found(events) == []


def test_missing_stages_are_named_with_what_the_stream_did_show() -> None:
    events = [
        START,
        {"type": "TEXT_MESSAGE_START", "messageId": "m"},
        {"type": "TEXT_MESSAGE_END", "messageId": "m"},
        FINISH,
    ]
    (violation,) = check_agui_events(events, stages=["tool_executing", Stage.TOOL_COMPLETED])
    assert violation.rule == "missing_stage"
    assert violation.index == 3
    assert "shows started, completed but not tool_executing and tool_completed" in violation.message
    with pytest.raises(ValueError, match="not_a_stage"):
        check_agui_events(events, stages=["not_a_stage"])


def test_wire_names_only_and_the_model_s_own_messages() -> None:
    snake = {"type": "TEXT_MESSAGE_START", "message_id": "m1"}
    (violation,) = check_agui_events([START, snake, FINISH])
    assert (violation.rule, violation.index) == ("invalid_event", 1)
    assert "field 'messageId': Field required" in violation.message
    assert found([START, {"type": "RUN_FINISHED", "threadId": 3, "runId": "r1"}]) == [
        ("invalid_event", 1),
        ("no_terminal", 0),
    ]
    assert found([START, {"type": 3}, FINISH]) == [("invalid_event", 1)]


def test_an_invalid_event_s_violation_carries_its_run_and_kind() -> None:
    bad_finish = {"type": "RUN_FINISHED", "threadId": 3, "runId": "r1"}
    (violation,) = check_agui_events([START, bad_finish], require_complete=False)
    assert violation.run_id == "r1"
    assert violation.message.startswith("event #1: RUN_FINISHED field 'threadId'")
    (typeless,) = check_agui_events([START, {"type": 3}, FINISH])
    assert typeless.run_id is None
    assert typeless.message.startswith("event #1: event field 'type' must be a string")


def test_a_value_shown_in_a_message_is_cut_past_80_characters() -> None:
    exactly = "x" * 78  # its repr is 80 characters: shown whole
    longer = "y" * 79
    shown, cut = check_agui_events([exactly, longer], require_complete=False)
    assert shown.message == f"event #0: not a JSON object, got str {exactly!r}"
    assert cut.message == f"event #1: not a JSON object, got str {repr(longer)[:77]}..."


def test_chunk_streams_of_two_subagents_stay_in_their_own_lanes() -> None:
    events = [
        START,
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "a", "delta": "A1", "subagentRunId": "s1"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "b", "delta": "B1", "subagentRunId": "s2"},
        {"type": "TEXT_MESSAGE_CHUNK", "delta": "A2", "subagentRunId": "s1"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "b", "delta": "B2"},  # found by its id
        FINISH,
    ]
    expanded = [
        (e["type"], e.get("messageId"), e.get("delta"), e.get("subagentRunId"))
        for e in expand_chunks(events)
    ]
    assert expanded == [
        ("RUN_STARTED", None, None, None),
        ("TEXT_MESSAGE_START", "a", None, "s1"),
        ("TEXT_MESSAGE_CONTENT", "a", "A1", "s1"),
        ("TEXT_MESSAGE_START", "b", None, "s2"),
        ("TEXT_MESSAGE_CONTENT", "b", "B1", "s2"),
        ("TEXT_MESSAGE_CONTENT", "a", "A2", "s1"),
        ("TEXT_MESSAGE_CONTENT", "b", "B2", None),
        ("TEXT_MESSAGE_END", "a", None, "s1"),
        ("TEXT_MESSAGE_END", "b", None, "s2"),
        ("RUN_FINISHED", None, None, None),
    ]
    assert found(events) == []


def test_a_stream_cut_inside_a_chunk_stream_points_at_the_last_chunk() -> None:
    chunk = {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m1", "delta": "par"}
    (violation,) = check_agui_events([START, chunk])
    assert (violation.rule, violation.index) == ("no_terminal", 1)
    assert "(event #1, from TEXT_MESSAGE_CHUNK)" in violation.message


def test_a_new_chunk_stream_in_a_subagent_s_lane_closes_that_lane_s_open_one() -> None:
    events = [
        START,
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "a", "delta": "A", "subagentRunId": "s1"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "c", "delta": "C", "subagentRunId": "s1"},
        FINISH,
    ]
    types = [(e["type"], e.get("messageId")) for e in expand_chunks(events)]
    assert types[1:6] == [
        ("TEXT_MESSAGE_START", "a"),
        ("TEXT_MESSAGE_CONTENT", "a"),
        ("TEXT_MESSAGE_END", "a"),
        ("TEXT_MESSAGE_START", "c"),
        ("TEXT_MESSAGE_CONTENT", "c"),
    ]
    assert found(events) == []


def test_unknown_types_and_bad_legacy_deltas_are_reported_with_what_was_sent() -> None:
    (unknown,) = check_agui_events([START, {"type": "RUN_PAUSED", "runId": "r1"}, FINISH])
    assert (unknown.rule, unknown.run_id) == ("unknown_type", "r1")
    assert unknown.message == "event #1: unknown type 'RUN_PAUSED'"
    legacy = [
        START,
        {"type": "THINKING_START"},
        {"type": "THINKING_TEXT_MESSAGE_START"},
        {"type": "THINKING_TEXT_MESSAGE_CONTENT", "delta": 42},
    ]
    (bad,) = check_agui_events(legacy, require_complete=False)
    assert bad.message == (
        "event #3: THINKING_TEXT_MESSAGE_CONTENT field 'delta' must be a string, got int 42"
    )


def test_assert_passes_every_option_on_and_nested_fields_are_named_by_path() -> None:
    run = [START, FINISH]
    for option in ({"thread_id": "other"}, {"run_id": "other"}, {"stages": ["error"]}):
        with pytest.raises(ContractViolation):
            assert_agui_events(run, **option)
    with pytest.raises(ContractViolation):
        assert_agui_events([START])
    assert_agui_events([START], require_complete=False)
    bad_usage = {**FINISH, "usage": [{"inputTokens": -1}]}
    violation = check_agui_events([START, bad_usage], require_complete=False)[0]
    assert "RUN_FINISHED field 'usage.0.inputTokens': " in violation.message
    (missing,) = check_agui_events(run, stages=["tool_executing"])
    assert missing.run_id == "r1"
