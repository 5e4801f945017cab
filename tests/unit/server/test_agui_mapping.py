"""The AG-UI side of the reference server, pure: v1 events to AG-UI, inputs to runs, one run's feed.

The translated streams are judged by the same AG-UI contract checker that judges
any AG-UI server (``golden_path.testing.agui.contract``), so a mapping that
breaks AG-UI's sequence rules fails here before any server starts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType
from ag_ui.core import RunAgentInput
from hypothesis import given
from hypothesis import strategies as st

from golden_path.ids import RequestID, RunID, ThreadID, ToolCallID, UserID
from golden_path.protocol import AgentErrorCode, ErrorCode, EventType
from golden_path.server.agui.feed import RunFeed
from golden_path.server.agui.inputs import RunRequest, read_input, request_for, thread_for
from golden_path.server.agui.mapping import (
    METADATA_KEY,
    TOOL_FAILED,
    AGUIRunIds,
    refusal_to_agui,
    to_agui,
)
from golden_path.server.refusal import Refusal
from golden_path.server.runs.admission import quota_upgrade
from golden_path.server.runs.events import RunScope
from golden_path.testing.agui.contract import Stage, check_agui_events, read_stages
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "An AG-UI client on the reference server sees every run as a valid AG-UI run, a "
            "failed tool as failed, and a refusal with the code that says what to do."
        ),
        revenue_impact=(
            "A stream an AG-UI client rejects is a chat that hangs for every customer on an "
            "AG-UI front end."
        ),
    ),
]

IDS = AGUIRunIds(thread_id="thread-1", run_id="run-1")
SCOPE = RunScope(
    user_id=UserID.new(),
    thread_id=ThreadID.new(),
    run_id=RunID.new(),
    request_id=RequestID("run-1"),
    agent_name="spend_optimizer",
)


def v1_run(*, success: bool = True, results: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A persisted v1 run (with seqs): started, thinking, one tool, completed."""
    call = str(ToolCallID.new())
    events = [
        SCOPE.event(EventType.AGENT_STARTED, message_id="msg_" + "a" * 32),
        SCOPE.event(EventType.AGENT_THINKING, reasoning="Reading the workload.", step=1),
        SCOPE.event(EventType.AGENT_THINKING, reasoning="Plan: run usage_analyzer.", step=2),
        SCOPE.event(
            EventType.TOOL_EXECUTING,
            tool_call_id=call,
            tool_name="usage_analyzer",
            parameters={"models": ["gpt-4o"], "tokens_per_day": 2_000_000},
        ),
        SCOPE.event(
            EventType.TOOL_COMPLETED,
            tool_call_id=call,
            tool_name="usage_analyzer",
            results=results if results is not None else {"total_daily_cost_usd": 12.5},
            success=success,
            duration_ms=1.5,
        ),
        SCOPE.event(
            EventType.AGENT_COMPLETED,
            final_response="You spend $12.50 a day.",
            result={"failed_tools": []},
            usage={"input_tokens": 410, "output_tokens": 7, "cost_usd": 0.001335},
            duration_ms=9.0,
        ),
    ]
    return [{**event, "seq": n} for n, event in enumerate(events, start=1)]


def wire(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The AG-UI events for ``events``, as a client decodes them off the wire."""
    return [
        json.loads(agui.model_dump_json(by_alias=True)) for e in events for agui in to_agui(e, IDS)
    ]


def test_a_whole_run_is_a_valid_agui_run_showing_every_stage() -> None:
    stream = wire(v1_run())
    assert check_agui_events(stream, thread_id=IDS.thread_id, run_id=IDS.run_id) == []
    assert read_stages(stream) == tuple(Stage)[:5]
    assert stream[0]["type"] == AGUIType.RUN_STARTED
    assert stream[0]["metadata"][METADATA_KEY]["run_id"] == str(SCOPE.run_id)
    assert stream[-1]["type"] == AGUIType.RUN_FINISHED
    assert stream[-1]["usage"] == [{"inputTokens": 410, "outputTokens": 7, "totalTokens": 417}]
    assert stream[-1]["result"]["usage"]["cost_usd"] == 0.001335
    # Every event names the v1 event it came from, and seqs only grow.
    seqs = [e["metadata"][METADATA_KEY]["seq"] for e in stream]
    assert seqs == sorted(seqs)
    assert {e["metadata"][METADATA_KEY]["event"] for e in stream} == {
        t.value for t in EventType if t is not EventType.AGENT_ERROR
    }


def test_tool_arguments_and_results_are_the_v1_json_with_sorted_keys() -> None:
    stream = wire(v1_run())
    (args,) = [e for e in stream if e["type"] == AGUIType.TOOL_CALL_ARGS]
    assert args["delta"] == '{"models":["gpt-4o"],"tokens_per_day":2000000}'
    (result,) = [e for e in stream if e["type"] == AGUIType.TOOL_CALL_RESULT]
    assert json.loads(result["content"]) == {"total_daily_cost_usd": 12.5}
    assert result["metadata"][METADATA_KEY]["success"] is True


@pytest.mark.parametrize(
    ("results", "error"),
    [({"error": "ValueError: unknown models: x"}, "ValueError: unknown models: x"), ({}, None)],
    ids=["the_tools_error", "no_error_given"],
)
def test_a_failed_tool_result_carries_an_error_and_success_false(
    results: dict[str, Any], error: str | None
) -> None:
    stream = wire(v1_run(success=False, results=results))
    assert check_agui_events(stream) == []
    (result,) = [e for e in stream if e["type"] == AGUIType.TOOL_CALL_RESULT]
    assert json.loads(result["content"])["error"] == (error or TOOL_FAILED)
    assert result["metadata"][METADATA_KEY]["success"] is False


def test_an_empty_answer_still_opens_and_ends_its_message() -> None:
    run = v1_run()
    run[-1] = {**run[-1], "final_response": ""}
    stream = wire(run)
    assert check_agui_events(stream, non_empty_deltas=True) == []
    kinds = [e["type"] for e in stream[-3:]]
    assert kinds == [AGUIType.TEXT_MESSAGE_START, AGUIType.TEXT_MESSAGE_END, AGUIType.RUN_FINISHED]


def test_an_agent_error_ends_the_run_with_run_error_and_its_code() -> None:
    started = v1_run()[0]
    error = {
        **SCOPE.event(
            EventType.AGENT_ERROR, code=AgentErrorCode.TIMEOUT.value, message="late", retryable=True
        ),
        "seq": 2,
    }
    stream = wire([started, error])
    assert check_agui_events(stream, stages=[Stage.STARTED, Stage.ERROR]) == []
    assert (stream[-1]["code"], stream[-1]["message"]) == ("timeout", "late")
    assert stream[-1]["metadata"][METADATA_KEY]["retryable"] is True


def test_a_refusal_is_a_lone_valid_run_error_with_the_frames_other_fields_in_metadata() -> None:
    refusal = Refusal(
        ErrorCode.QUOTA_EXCEEDED, "all 10 runs of today are used", upgrade=quota_upgrade(Tier.FREE)
    ).for_request("run-1")
    event = json.loads(refusal_to_agui(refusal).model_dump_json(by_alias=True))
    assert check_agui_events([event], stages=[Stage.ERROR]) == []
    assert (event["code"], event["message"]) == ("quota_exceeded", refusal.message)
    extra = event["metadata"][METADATA_KEY]
    assert extra == {"upgrade": quota_upgrade(Tier.FREE), "request_id": "run-1"}
    bare = refusal_to_agui(Refusal(ErrorCode.THREAD_NOT_FOUND, "no thread"))
    assert bare.metadata is None


# --- inputs ------------------------------------------------------------------------------


def run_input(messages: list[dict[str, Any]], thread_id: str = "thread-1") -> RunAgentInput:
    return RunAgentInput.model_validate(
        {"threadId": thread_id, "runId": "run-1", "messages": messages, "tools": [], "context": []}
    )


@given(st.text(max_size=80))
def test_a_client_thread_name_maps_to_one_thread_per_user(name: str) -> None:
    alice, bob = UserID("usr_" + "1" * 32), UserID("usr_" + "2" * 32)
    mine, create = thread_for(alice, name)
    if ThreadID.is_valid(name):
        assert (mine, create) == (name, False)
        return
    assert ThreadID.is_valid(mine)
    assert create is True
    assert thread_for(alice, name) == (mine, True)
    assert thread_for(bob, name)[0] != mine


def test_a_server_thread_id_names_that_thread_and_is_never_created() -> None:
    thread = ThreadID.new()
    assert thread_for(UserID.new(), thread) == (thread, False)


def test_the_run_id_is_the_request_id_or_a_stable_key_derived_from_it() -> None:
    assert request_for("run-1f0c_A") == "run-1f0c_A"
    for odd in ("run.with.dots", "x" * 65, ""):
        derived = request_for(odd)
        assert RequestID.is_valid(derived)
        assert derived.startswith("agui-")
        assert request_for(odd) == derived
    assert request_for("a.b") != request_for("a.c")


def test_the_content_is_the_last_user_message_text() -> None:
    user = UserID.new()
    parts = [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "agent"}]
    asked = read_input(
        user,
        run_input(
            [
                {"id": "m1", "role": "user", "content": "earlier"},
                {"id": "m2", "role": "assistant", "content": "answer"},
                {"id": "m3", "role": "user", "content": parts},
            ]
        ),
    )
    assert isinstance(asked, RunRequest)
    assert asked.content == "Hello, agent"
    assert (asked.thread_id, asked.create_thread) == thread_for(user, "thread-1")
    assert asked.request_id == "run-1"


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"id": "m1", "role": "assistant", "content": "Hello"}],
        [{"id": "m1", "role": "user", "content": ""}],
        [{"id": "m1", "role": "user", "content": "nul \x00 inside"}],
    ],
    ids=["no_messages", "assistant_last", "empty", "nul"],
)
def test_an_input_without_a_usable_user_message_is_invalid_message(
    messages: list[dict[str, Any]],
) -> None:
    refused = read_input(UserID.new(), run_input(messages))
    assert isinstance(refused, Refusal)
    assert refused.code == ErrorCode.INVALID_MESSAGE
    assert refused.details == [{"field": "messages", "problem": refused.message}]


# --- the feed ----------------------------------------------------------------------------


async def test_the_feed_yields_its_runs_events_once_in_order_up_to_the_terminal() -> None:
    run = v1_run()
    other = {**run[1], "run_id": str(RunID.new()), "seq": 99}
    feed = RunFeed()
    feed.push_live(run[0])  # before the feed knows its run: kept
    feed.push_live(other)
    feed.follow(str(SCOPE.run_id))
    for event in [run[1], other, run[1], *run[2:]]:  # a repeat and another run's event
        feed.push_live(event)
    seen = [e["seq"] async for e in feed.events()]
    assert seen == [1, 2, 3, 4, 5, 6]


async def test_a_replayed_runs_stored_events_come_first_and_live_copies_are_dropped() -> None:
    run = v1_run()
    feed = RunFeed()
    feed.follow(str(SCOPE.run_id))
    for event in run[2:]:
        feed.push_live(event)
    seen = [e["seq"] async for e in feed.events(run[:4])]
    assert seen == [1, 2, 3, 4, 5, 6]
    finished = RunFeed()
    finished.follow(str(SCOPE.run_id))
    assert [e["seq"] async for e in finished.events(run)] == [1, 2, 3, 4, 5, 6]


async def test_a_feed_whose_run_never_ends_times_out() -> None:
    feed = RunFeed()
    feed.follow(str(SCOPE.run_id))
    feed.push_live(v1_run()[0])
    seen: list[int] = []

    async def read() -> None:
        async for event in feed.events(timeout_s=0.05):
            seen.append(event["seq"])

    with pytest.raises(TimeoutError):
        await read()
    assert seen == [1]
