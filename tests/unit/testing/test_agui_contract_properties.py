"""Property tests of the AG-UI checker: valid streams pass, every single mutation is caught.

Each mutation test computes the exact set of rules the mutation must trigger from
the AG-UI sequence rules alone (``drop_effect`` spells the reasoning out), and checks
the checker reports exactly that set, with messages naming the event's index.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from ag_ui.core import EventType
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from golden_path.testing.agui.contract import (
    RULES,
    Stage,
    check_agui_events,
    expand_chunks,
    read_stages,
)
from golden_path.testing.agui.strategies import agui_runs, agui_streams, chunked_agui_runs
from golden_path.testing.v1.contract import Violation

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Shows the AG-UI checker catches every single-event corruption of an agent's "
            "stream (a lost start or end, a duplicate, a stray event after the run, a "
            "malformed event) that would leave a chat UI built on AG-UI hanging or wrong."
        ),
        revenue_impact=(
            "Indirect: lets customers' own AG-UI agents be tested with the harness, and keeps "
            "it from passing broken streams; no direct revenue."
        ),
    ),
]

Event = dict[str, Any]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OPENERS = {
    "TEXT_MESSAGE_START": ("messageId", ("TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END")),
    "TOOL_CALL_START": ("toolCallId", ("TOOL_CALL_ARGS", "TOOL_CALL_END")),
    "REASONING_START": ("messageId", ("REASONING_END",)),
    "REASONING_MESSAGE_START": (
        "messageId",
        ("REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END"),
    ),
    "STEP_STARTED": ("stepName", ("STEP_FINISHED",)),
}
NOT_STARTED = {
    "TEXT_MESSAGE_START": "message_not_started",
    "TOOL_CALL_START": "tool_call_not_started",
    "REASONING_START": "reasoning_not_started",
    "REASONING_MESSAGE_START": "reasoning_not_started",
    "STEP_STARTED": "step_not_started",
}
ALREADY_STARTED = {
    "TEXT_MESSAGE_START": "message_already_started",
    "TOOL_CALL_START": "tool_call_already_started",
    "REASONING_START": "reasoning_already_started",
    "REASONING_MESSAGE_START": "reasoning_already_started",
    "STEP_STARTED": "step_already_started",
}
CLOSERS = {
    "TEXT_MESSAGE_END": ("messageId", "message_not_ended", "message_not_started"),
    "TOOL_CALL_END": ("toolCallId", "tool_call_not_ended", "tool_call_not_started"),
    "REASONING_END": ("messageId", "reasoning_not_ended", "reasoning_not_started"),
    "REASONING_MESSAGE_END": ("messageId", "reasoning_not_ended", "reasoning_not_started"),
    "STEP_FINISHED": ("stepName", "step_not_finished", "step_not_started"),
}


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def drop_effect(run: list[Event], pos: int) -> set[str]:
    """The rules a single run breaks when its event at ``pos`` takes no part in it.

    * RUN_STARTED: the run begins with another event -> run_not_started, unless what is
      left is a lone RUN_ERROR (a run may fail before it starts).
    * the terminal: the run is incomplete -> no_terminal.
    * an opener (…_START, STEP_STARTED): its later events lack it -> …_not_started; a
      TOOL_CALL_START also leaves its TOOL_CALL_RESULT answering no call.
    * a closer (…_END, STEP_FINISHED): a RUN_FINISHED finds it open -> …_not_ended /
      step_not_finished; a RUN_ERROR may leave anything open.
    * anything else (content, args, results, custom, state) changes no pairing.
    """
    event = run[pos]
    kind = event["type"]
    rest = run[:pos] + run[pos + 1 :]
    finished = run[-1]["type"] == "RUN_FINISHED"
    if pos == 0:
        return set() if [e["type"] for e in rest] == ["RUN_ERROR"] else {"run_not_started"}
    if pos == len(run) - 1:
        return {"no_terminal"}
    if kind in OPENERS:
        key, followers = OPENERS[kind]
        later = [e for e in rest[pos:] if e["type"] in followers and e.get(key) == event[key]]
        effect = {NOT_STARTED[kind]} if later else set()
        if kind == "TOOL_CALL_START" and any(
            e["type"] == "TOOL_CALL_RESULT" and e["toolCallId"] == event["toolCallId"] for e in rest
        ):
            effect.add("tool_result_unknown_call")
        return effect
    if kind in CLOSERS and finished:
        return {CLOSERS[kind][1]}
    return set()


def assert_messages_point(violations: list[Violation]) -> None:
    for v in violations:
        if v.index is not None:
            assert f"event #{v.index}" in v.message, v


# --- valid streams


@FAST
@given(agui_streams(max_runs=3))
def test_every_generated_stream_passes(stream: list[Event]) -> None:
    assert check_agui_events(stream) == []


@FAST
@given(chunked_agui_runs())
def test_chunked_runs_pass_and_expand_to_the_events_they_stand_for(
    pair: tuple[list[Event], list[Event]],
) -> None:
    chunked, plain = pair
    assert check_agui_events(chunked) == []
    assert expand_chunks(chunked) == plain
    assert read_stages(chunked) == read_stages(plain)


@FAST
@given(agui_runs())
def test_stages_follow_the_events(run: list[Event]) -> None:
    types = {e["type"] for e in run}
    shown = set(read_stages(run))
    assert (Stage.TOOL_EXECUTING in shown) == ("TOOL_CALL_START" in types)
    assert (Stage.TOOL_COMPLETED in shown) == ("TOOL_CALL_RESULT" in types)
    assert (Stage.COMPLETED in shown) == (run[-1]["type"] == "RUN_FINISHED")
    assert (Stage.ERROR in shown) == (run[-1]["type"] == "RUN_ERROR")
    thinking = any(t.startswith(("REASONING_", "STEP_")) for t in types)
    assert (Stage.THINKING in shown) == thinking
    assert read_stages(run)[0] is Stage.STARTED
    demanded = check_agui_events(run, stages=[Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED])
    wants_tool = not {"TOOL_CALL_START", "TOOL_CALL_RESULT"} <= types
    assert rules(demanded) == ({"missing_stage"} if wants_tool else set())


# --- single mutations


@FAST
@given(agui_runs(), st.data())
def test_dropping_any_event_breaks_exactly_the_rules_it_should(
    run: list[Event], data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(run) - 1))
    mutated = run[:pos] + run[pos + 1 :]
    violations = check_agui_events(mutated)
    assert rules(violations) == drop_effect(run, pos), (run[pos], violations)
    assert_messages_point(violations)


@FAST
@given(agui_runs(), st.data())
def test_duplicating_any_event_breaks_exactly_the_rules_it_should(
    run: list[Event], data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(run) - 1))
    event = run[pos]
    kind = event["type"]
    mutated = [*run[: pos + 1], copy.deepcopy(event), *run[pos + 1 :]]
    if pos == 0:
        expected = {"run_already_active"}
    elif pos == len(run) - 1:
        expected = {"after_terminal"}
    elif kind in ALREADY_STARTED:
        expected = {ALREADY_STARTED[kind]}
    elif kind in CLOSERS:
        expected = {CLOSERS[kind][2]}
    else:
        expected = set()
    violations = check_agui_events(mutated)
    assert rules(violations) == expected, (event, violations)
    assert_messages_point(violations)


@FAST
@given(agui_runs(), st.data())
def test_an_event_moved_after_the_terminal_is_caught(run: list[Event], data: st.DataObject) -> None:
    assume(len(run) > 2)
    pos = data.draw(st.integers(1, len(run) - 2))
    mutated = run[:pos] + run[pos + 1 :] + [run[pos]]
    violations = check_agui_events(mutated)
    assert rules(violations) == drop_effect(run, pos) | {"after_terminal"}
    assert_messages_point(violations)


def _required_string_fields(kind: str) -> list[str]:
    import typing

    from ag_ui.core import Event as AnyEvent

    for cls in typing.get_args(typing.get_args(AnyEvent)[0]):
        if cls.model_fields["type"].default.value == kind:
            return [
                f.alias or name
                for name, f in cls.model_fields.items()
                if f.is_required() and f.annotation is str
            ]
    raise AssertionError(kind)  # pragma: no cover


CORRUPTIONS = ("drop_field", "snake_case", "wrong_type", "unknown_type", "not_an_object")


@FAST
@given(agui_runs(), st.data())
def test_a_malformed_event_is_reported_and_takes_no_part(
    run: list[Event], data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(run) - 1))
    how = data.draw(st.sampled_from(CORRUPTIONS))
    event: Any = copy.deepcopy(run[pos])
    fields = _required_string_fields(event["type"])
    camel = [f for f in fields if re.search("[A-Z]", f)]
    if how in ("drop_field", "wrong_type"):
        assume(fields)
        name = data.draw(st.sampled_from(fields))
        if how == "drop_field":
            del event[name]
        else:
            event[name] = data.draw(st.integers() | st.none() | st.lists(st.integers(), max_size=1))
        rule = "invalid_event"
    elif how == "snake_case":
        assume(camel)
        name = data.draw(st.sampled_from(camel))
        event[re.sub("([A-Z])", lambda m: "_" + m.group(1).lower(), name)] = event.pop(name)
        rule = "invalid_event"
    elif how == "unknown_type":
        event["type"] = data.draw(
            st.sampled_from(("NOT_AN_EVENT", "text_message_start", "RUN_START", ""))
        )
        rule = "unknown_type"
    else:
        event = data.draw(st.sampled_from((None, 3, "RUN_STARTED", [event])))
        rule = "not_an_object"
    mutated = [*run[:pos], event, *run[pos + 1 :]]
    violations = check_agui_events(mutated)
    assert rules(violations) == {rule} | drop_effect(run, pos), (how, violations)
    assert [v.index for v in violations if v.rule == rule] == [pos] * sum(
        v.rule == rule for v in violations
    )
    assert_messages_point(violations)


@FAST
@given(agui_runs(), st.data())
def test_an_id_pointing_nowhere_is_caught(run: list[Event], data: st.DataObject) -> None:
    targets = {
        "TEXT_MESSAGE_CONTENT": ("messageId", "message_not_started"),
        "TOOL_CALL_ARGS": ("toolCallId", "tool_call_not_started"),
        "TOOL_CALL_RESULT": ("toolCallId", "tool_result_unknown_call"),
        "REASONING_MESSAGE_CONTENT": ("messageId", "reasoning_not_started"),
    }
    candidates = [i for i, e in enumerate(run) if e["type"] in targets]
    assume(candidates)
    pos = data.draw(st.sampled_from(candidates))
    key, rule = targets[run[pos]["type"]]
    mutated = copy.deepcopy(run)
    mutated[pos][key] = "nowhere-0"
    violations = check_agui_events(mutated)
    assert rules(violations) == {rule}
    assert all("nowhere-0" in v.message and v.index == pos for v in violations)


@FAST
@given(agui_runs(outcome="finished"), st.sampled_from(("threadId", "runId")))
def test_a_run_finished_for_another_run_is_caught(run: list[Event], field: str) -> None:
    mutated = copy.deepcopy(run)
    mutated[-1][field] = "elsewhere-0"
    violations = check_agui_events(mutated)
    assert rules(violations) == {"inconsistent_id"}
    assert "elsewhere-0" in violations[0].message
    assert violations[0].index == len(run) - 1


@FAST
@given(agui_runs(), st.sampled_from(("thread_id", "run_id")))
def test_a_run_that_is_not_the_one_asked_for_is_caught(run: list[Event], option: str) -> None:
    asked = {"thread_id": run[0]["threadId"], "run_id": run[0]["runId"]}
    assert check_agui_events(run, **asked) == []
    asked[option] = "asked-for-0"
    violations = check_agui_events(run, **asked)
    assert rules(violations) == {"inconsistent_id"}
    assert violations[0].index == 0
    assert "asked-for-0" in violations[0].message


@FAST
@given(agui_runs(), st.data())
def test_empty_deltas_are_flagged_only_on_request(run: list[Event], data: st.DataObject) -> None:
    contents = {EventType.TEXT_MESSAGE_CONTENT.value, EventType.REASONING_MESSAGE_CONTENT.value}
    candidates = [i for i, e in enumerate(run) if e["type"] in contents]
    assume(candidates)
    pos = data.draw(st.sampled_from(candidates))
    mutated = copy.deepcopy(run)
    mutated[pos]["delta"] = ""
    assert check_agui_events(mutated) == []
    strict = check_agui_events(mutated, non_empty_deltas=True)
    assert [(v.rule, v.index) for v in strict] == [("empty_delta", pos)]


# --- anything at all: the checker reports, never crashes

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_event_like = st.one_of(
    _json,
    st.fixed_dictionaries(
        {"type": st.sampled_from([t.value for t in EventType] + ["THINKING_START", "NOPE"])},
        optional={
            name: st.one_of(st.text(max_size=4), _json)
            for name in (
                "messageId",
                "toolCallId",
                "toolCallName",
                "delta",
                "threadId",
                "runId",
                "stepName",
                "subagentRunId",
                "name",
                "content",
                "message",
                "value",
                "snapshot",
            )
        },
    ),
)


@FAST
@given(st.lists(_event_like, max_size=12))
def test_any_list_of_anything_gets_violations_never_an_exception(events: list[Any]) -> None:
    for option in (True, False):
        violations = check_agui_events(events, require_complete=option, stages=[Stage.COMPLETED])
        assert {v.rule for v in violations} <= set(RULES)
        assert_messages_point(violations)
    expand_chunks(events)
    read_stages(events)
