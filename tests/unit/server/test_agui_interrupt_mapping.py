"""The reference server's AG-UI interrupt, pure (protocol §12.1): a pause translated, a feed
that stops at it and starts after it, and ``resume`` entries read as an approval or a denial.

The translated streams are judged by the harness's AG-UI checker in strict mode, as the
conformance suite judges a live server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType
from ag_ui.core import RunAgentInput

from golden_path.ids import InterruptID, RequestID, RunID, ThreadID, ToolCallID, UserID
from golden_path.protocol import APPROVAL_FIELD, ErrorCode, EventType
from golden_path.server.agui.feed import RunFeed
from golden_path.server.agui.inputs import ResumeRequest, read_resume, request_for, thread_for
from golden_path.server.agui.mapping import (
    METADATA_KEY,
    AGUIRunIds,
    ends_stream,
    resumed_to_agui,
    to_agui,
)
from golden_path.server.refusal import Refusal
from golden_path.server.runs.events import RunScope
from golden_path.testing.agui.contract import check_agui_events

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="an AG-UI UI shows the approval a costly tool waits for, and its answer "
        "continues the run it paused",
        revenue_impact="an interrupt a client cannot read, or an answer read wrongly, runs a "
        "costly tool the customer refused or loses the work they approved",
    ),
]

IDS = AGUIRunIds(thread_id="thread-1", run_id="run-1")
RESUMED = AGUIRunIds(thread_id="thread-1", run_id="run-2")
SCOPE = RunScope(
    user_id=UserID.new(),
    thread_id=ThreadID.new(),
    run_id=RunID.new(),
    request_id=RequestID("run-1"),
    agent_name="spend_optimizer",
)
INTERRUPT = str(InterruptID.new())
CALL = str(ToolCallID.new())
APPROVAL = {
    "interrupt_id": INTERRUPT,
    "cost_usd": 0.5,
    "limit_usd": 0.25,
    "message": "Forecasting costs $0.50 a call. Approve it?",
}


def paused_then_answered() -> list[dict[str, Any]]:
    """A v1 run that paused at a tool, then (once answered) ran it and completed."""
    events = [
        SCOPE.event(EventType.AGENT_STARTED, message_id="msg_" + "a" * 32),
        SCOPE.event(EventType.AGENT_THINKING, reasoning="Forecasting.", step=1),
        SCOPE.event(
            EventType.TOOL_EXECUTING,
            tool_call_id=CALL,
            tool_name="advanced_analytics",
            parameters={},
            **{APPROVAL_FIELD: APPROVAL},
        ),
        SCOPE.event(
            EventType.TOOL_COMPLETED,
            tool_call_id=CALL,
            tool_name="advanced_analytics",
            results={"forecast": []},
            success=True,
            duration_ms=1.0,
        ),
        SCOPE.event(
            EventType.AGENT_COMPLETED,
            final_response="Here is the forecast.",
            result={"failed_tools": []},
            usage={"input_tokens": 410, "output_tokens": 6, "cost_usd": 0.00132},
            duration_ms=3.0,
        ),
    ]
    return [{**event, "seq": n} for n, event in enumerate(events, start=1)]


def wire(events: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(e.model_dump_json(by_alias=True, exclude_none=True)) for e in events]


def test_the_pausing_tool_call_ends_the_stream_with_an_interrupt_for_that_call() -> None:
    paused = paused_then_answered()[:3]
    stream = wire([agui for e in paused for agui in to_agui(e, IDS)])
    assert check_agui_events(stream, thread_id="thread-1", run_id="run-1") == []
    assert [e["type"] for e in stream[-4:]] == [
        AGUIType.TOOL_CALL_START,
        AGUIType.TOOL_CALL_ARGS,
        AGUIType.TOOL_CALL_END,
        AGUIType.RUN_FINISHED,
    ]
    outcome = stream[-1]["outcome"]
    assert outcome["type"] == "interrupt"
    (interrupt,) = outcome["interrupts"]
    assert interrupt["id"] == INTERRUPT
    assert interrupt["toolCallId"] == CALL
    assert interrupt["message"] == APPROVAL["message"]
    assert interrupt["responseSchema"]["required"] == ["approved"]
    assert interrupt["metadata"][METADATA_KEY]["cost_usd"] == 0.5


def test_the_answering_stream_opens_the_same_run_and_answers_the_paused_call() -> None:
    after = paused_then_answered()[3:]
    opening = resumed_to_agui(
        {"run_id": str(SCOPE.run_id), "thread_id": str(SCOPE.thread_id)},
        "run-2",
        INTERRUPT,
        RESUMED,
    )
    stream = wire([opening, *(agui for e in after for agui in to_agui(e, RESUMED))])
    assert check_agui_events(stream, thread_id="thread-1", run_id="run-2") != []  # alone:
    # the result answers a call of the paused run, which the client's history names.
    assert (
        check_agui_events(stream, thread_id="thread-1", run_id="run-2", prior_tool_calls={CALL})
        == []
    )
    assert stream[0]["metadata"][METADATA_KEY] == {
        "run_id": str(SCOPE.run_id),
        "thread_id": str(SCOPE.thread_id),
        "request_id": "run-2",
        "resumes": INTERRUPT,
    }
    assert stream[1]["toolCallId"] == CALL


def test_a_stream_ends_at_the_pause_or_the_runs_end_and_at_nothing_else() -> None:
    run = paused_then_answered()
    assert [ends_stream(e) for e in run] == [False, False, True, False, True]


async def test_the_feed_stops_at_the_pause_and_an_answers_feed_starts_after_it() -> None:
    run = paused_then_answered()
    first = RunFeed()
    first.follow(str(SCOPE.run_id))
    assert [e["seq"] async for e in first.events(run)] == [1, 2, 3]
    answer = RunFeed()
    answer.follow(str(SCOPE.run_id))
    for event in run:
        answer.push_live(event)
    assert [e["seq"] async for e in answer.events(after_seq=3)] == [4, 5]


# --- resume entries ----------------------------------------------------------------------


def resume_input(*entries: dict[str, Any], thread: str = "thread-1") -> RunAgentInput:
    return RunAgentInput.model_validate(
        {"threadId": thread, "runId": "run-2", "messages": [], "resume": list(entries)}
    )


@pytest.mark.parametrize(
    ("entry", "approved"),
    [
        ({"status": "resolved", "payload": {"approved": True}}, True),
        ({"status": "resolved", "payload": {"approved": False}}, False),
        ({"status": "cancelled"}, False),
        ({"status": "cancelled", "payload": {"approved": True}}, False),
    ],
    ids=["approved", "denied", "cancelled", "cancelled_whatever_the_payload"],
)
def test_a_resume_entry_is_an_approval_or_a_denial(entry: dict[str, Any], approved: bool) -> None:
    user = UserID.new()
    asked = read_resume(user, resume_input({"interruptId": INTERRUPT, **entry}))
    assert asked == ResumeRequest(
        INTERRUPT, approved, thread_for(user, "thread-1")[0], request_for("run-2")
    )


@pytest.mark.parametrize(
    ("entries", "field", "says"),
    [
        ([], "resume", "exactly one"),
        ([{"status": "cancelled"}] * 2, "resume", "exactly one"),
        ([{"status": "resolved"}], "resume[0].payload", '{"approved": true}'),
        ([{"status": "resolved", "payload": {"approved": "yes"}}], "resume[0].payload", "approved"),
        ([{"status": "resolved", "payload": True}], "resume[0].payload", "approved"),
    ],
    ids=["none", "two", "no_payload", "not_a_boolean", "not_an_object"],
)
def test_a_resume_that_is_no_clear_answer_is_invalid_naming_the_field(
    entries: list[dict[str, Any]], field: str, says: str
) -> None:
    refused = read_resume(
        UserID.new(), resume_input(*({"interruptId": INTERRUPT, **e} for e in entries))
    )
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.INVALID_MESSAGE
    assert says in refused.message
    assert refused.details == [{"field": field, "problem": refused.message}]
