"""The AG-UI client's pure parts: the input it sends, what a run reports, its transcript."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from golden_path.testing.agui.client import AGUIClient, AGUIRun
from golden_path.testing.agui.contract import Stage

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Every AG-UI conformance test reads a run through this client; if it sent an "
            "input a server may reject, or misread the answer's text or tool calls, a "
            "correct agent would fail or a broken one pass."
        ),
        revenue_impact="Indirect: trustworthy AG-UI verdicts for customers' own agents.",
    ),
]

TOOL_RUN = [
    {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"},
    {"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "get_weather"},
    {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": '{"city": '},
    {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": '"Paris"}'},
    {"type": "TOOL_CALL_END", "toolCallId": "c1"},
    {"type": "TOOL_CALL_RESULT", "messageId": "m0", "toolCallId": "c1", "content": "sunny"},
    {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m1", "delta": "It is "},
    {"type": "TEXT_MESSAGE_CHUNK", "delta": "sunny."},
    {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r1"},
]


def test_the_input_is_a_valid_run_agent_input_with_the_message_last() -> None:
    history = [{"id": "u0", "role": "user", "content": "hi"}]
    body = AGUIClient.make_input("And now?", thread_id="t1", messages=history, state={"k": 1})
    assert body["threadId"] == "t1"
    assert body["runId"].startswith("run-")
    assert [m["content"] for m in body["messages"]] == ["hi", "And now?"]
    assert body["messages"][-1]["role"] == "user"
    assert (body["tools"], body["context"], body["forwardedProps"]) == ([], [], {})
    assert body["state"] == {"k": 1}
    assert AGUIClient.make_input("x")["threadId"] != AGUIClient.make_input("x")["threadId"]


def test_an_invalid_input_is_refused_before_it_is_sent() -> None:
    with pytest.raises(ValueError, match="not a valid AG-UI RunAgentInput"):
        AGUIClient.make_input("x", messages=[{"id": "1", "role": "robot", "content": "?"}])
    with pytest.raises(ValueError, match="not a valid AG-UI RunAgentInput"):
        AGUIClient.make_input("x", tools=[{"name": "no description"}])


def test_a_run_reports_its_text_tool_calls_stages_and_terminal() -> None:
    run = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=list(TOOL_RUN))
    assert run.text == "It is sunny."
    assert run.tool_calls == [
        {
            "toolCallId": "c1",
            "name": "get_weather",
            "parentMessageId": None,
            "args": '{"city": "Paris"}',
            "result": "sunny",
        }
    ]
    assert run.stages == (
        Stage.STARTED,
        Stage.TOOL_EXECUTING,
        Stage.TOOL_COMPLETED,
        Stage.COMPLETED,
    )
    assert run.terminal == TOOL_RUN[-1]
    assert run.violations(stages=[Stage.TOOL_COMPLETED]) == []


def test_a_run_is_checked_against_the_ids_the_client_sent() -> None:
    run = AGUIRun(input={"threadId": "t2", "runId": "r1", "messages": []}, events=list(TOOL_RUN))
    assert [v.rule for v in run.violations()] == ["inconsistent_id"]


def test_a_run_the_client_cut_short_need_not_have_ended() -> None:
    run = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=TOOL_RUN[:3])
    assert [v.rule for v in run.violations()] == ["no_terminal"]
    run.closed_early = True
    assert run.violations() == []
    run.assert_contract()


PAUSED_RUN = [
    {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"},
    {"type": "TEXT_MESSAGE_START", "messageId": "a1", "role": "assistant"},
    {"type": "TEXT_MESSAGE_CONTENT", "messageId": "a1", "delta": "Paying."},
    {"type": "TEXT_MESSAGE_END", "messageId": "a1"},
    {"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "pay", "parentMessageId": "a1"},
    {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": "{}"},
    {"type": "TOOL_CALL_END", "toolCallId": "c1"},
    {
        "type": "RUN_FINISHED",
        "threadId": "t1",
        "runId": "r1",
        "outcome": {
            "type": "interrupt",
            "interrupts": [{"id": "i1", "reason": "approval", "toolCallId": "c1"}],
        },
    },
]


def test_a_paused_run_shows_its_interrupts_and_the_history_a_resume_sends() -> None:
    paused = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=PAUSED_RUN)
    assert [i["id"] for i in paused.interrupts] == ["i1"]
    assert paused.history() == [
        {
            "id": "a1",
            "role": "assistant",
            "content": "Paying.",
            "toolCalls": [
                {"id": "c1", "type": "function", "function": {"name": "pay", "arguments": "{}"}}
            ],
        }
    ]
    finished = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=TOOL_RUN)
    assert finished.interrupts == []


def test_a_resumed_run_may_answer_a_call_its_history_holds() -> None:
    """The run resuming an approval sends the paused call's result: not an unknown call."""
    paused = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=PAUSED_RUN)
    resumed_events = [
        {"type": "RUN_STARTED", "threadId": "t1", "runId": "r2"},
        {"type": "TOOL_CALL_RESULT", "messageId": "m9", "toolCallId": "c1", "content": "paid"},
        {"type": "RUN_FINISHED", "threadId": "t1", "runId": "r2"},
    ]
    resumed = AGUIRun(
        input={"threadId": "t1", "runId": "r2", "messages": paused.history()},
        events=resumed_events,
    )
    assert resumed.prior_tool_calls == {"c1"}
    assert resumed.violations() == []
    blind = AGUIRun(input={"threadId": "t1", "runId": "r2", "messages": []}, events=resumed_events)
    assert [v.rule for v in blind.violations()] == ["tool_result_unknown_call"]


async def test_resuming_a_run_that_did_not_pause_is_refused_before_anything_is_sent() -> None:
    finished = AGUIRun(input={"threadId": "t1", "runId": "r1", "messages": []}, events=TOOL_RUN)
    async with AGUIClient("http://127.0.0.1:9/agui") as client:
        with pytest.raises(ValueError, match="without an interrupt"):
            await client.resume(finished, approve=True)
        assert client.transcript == []


async def test_the_transcript_shows_what_was_sent_received_and_closed() -> None:
    async with AGUIClient("http://127.0.0.1:9/agui", token="t0k") as client:
        check_transcript(client)


def check_transcript(client: AGUIClient) -> None:
    assert client.format_transcript() == "(nothing sent)"
    assert client.headers["Authorization"] == "Bearer t0k"
    client._record("sent", {"POST": client.url, "body": {"threadId": "t1"}})
    client._record("received", {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1"})
    client._record("received", "not json")
    client._record("closed", "after 2 events")
    lines = client.format_transcript().splitlines()
    assert len(lines) == 4
    assert " -> " in lines[0]
    assert "http://127.0.0.1:9/agui" in lines[0]
    assert " <- " in lines[1]
    assert "RUN_STARTED" in lines[1]
    assert lines[2].endswith("<- not json")
    assert lines[3].endswith("xx after 2 events")
    assert client.format_transcript(limit=1).splitlines() == lines[-1:]


def keep_alive_app() -> Starlette:
    """An AG-UI endpoint that sends an SSE comment (a keep-alive) before every event."""

    async def agui(request: Request) -> StreamingResponse:
        body = await request.json()
        ids = {"threadId": body["threadId"], "runId": body["runId"]}

        async def frames() -> AsyncIterator[str]:
            yield ": keep-alive\n\n"
            for event in [{"type": "RUN_STARTED", **ids}, *TOOL_RUN[1:-1]]:
                yield f": keep-alive\n\ndata: {json.dumps(event)}\n\n"
            yield ":\n\n"
            yield f"data: {json.dumps({'type': 'RUN_FINISHED', **ids})}\n\n"

        return StreamingResponse(frames(), media_type="text/event-stream")

    return Starlette(routes=[Route("/agui", agui, methods=["POST"])])


async def test_keep_alive_comments_between_events_are_tolerated() -> None:
    """SSE comments (``: keep-alive``) are not events: the run reads as if they were absent."""
    transport = httpx.ASGITransport(app=keep_alive_app())
    async with AGUIClient("http://agui.test/agui", transport=transport) as client:
        run = await client.run("Weather?")
    assert run.types == [e["type"] for e in TOOL_RUN]
    assert run.text == "It is sunny."
    run.assert_contract(strict=True)
