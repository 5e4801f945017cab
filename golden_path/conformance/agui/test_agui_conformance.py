"""What every AG-UI server must pass, reached only by URL (``--gp-protocol=ag-ui --gp-url``).

Each run is judged by the AG-UI contract (:mod:`golden_path.testing.agui.contract`):
every event valid for the official ``ag-ui-protocol`` model of its type, the AG-UI
client verifier's sequence rules, and the ``threadId``/``runId`` the client sent.
``make test`` runs this module against ``examples/agui-pydantic-ai`` (pydantic-ai's
own AG-UI adapter) in its own process. Prompts and the token come from the
environment (see ``golden_path.testing.agui.fixtures``).
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from golden_path.testing.agui.client import AGUIClient, AGUIHTTPError
from golden_path.testing.agui.contract import Stage, check_agui_events
from golden_path.testing.agui.rules_outcome import VERSION_FORMAT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "Teams that build their agent on pydantic-ai, LangGraph, CrewAI or ADK stream it "
            "to their UI with AG-UI; this suite tells them whether their server keeps the "
            "protocol's promises (a started run ends, tool calls complete, runs do not mix) "
            "before their users see a chat that hangs."
        ),
        revenue_impact=(
            "Opens the harness to every AG-UI agent, not only golden-path's own protocol: "
            "the adoption path for customers who already chose a framework."
        ),
    ),
]

TOOL_PROMPT = os.environ.get("GOLDEN_PATH_AGUI_TOOL_PROMPT", "What is the weather in Paris?")
ERROR_PROMPT = os.environ.get("GOLDEN_PATH_AGUI_ERROR_PROMPT")
LONG_PROMPT = os.environ.get("GOLDEN_PATH_AGUI_LONG_PROMPT", "Tell me a long story, please.")
TOKEN = os.environ.get("GOLDEN_PATH_AGUI_TOKEN")


@pytest.mark.golden_path
async def test_a_plain_question_streams_one_valid_run_to_its_end(gp_agui: AGUIClient) -> None:
    run = await gp_agui.run("Hello! Who are you?")
    run.assert_contract()
    assert run.terminal is not None
    assert run.terminal["type"] == "RUN_FINISHED", run.terminal
    assert run.stages[0] is Stage.STARTED
    assert run.stages[-1] is Stage.COMPLETED
    assert run.text.strip(), "the agent answered a question with no text"


async def test_run_started_declares_the_protocol_version_it_speaks(gp_agui: AGUIClient) -> None:
    """AG-UI 1.0: a producer MUST declare its version on RUN_STARTED, as MAJOR.MINOR."""
    run = await gp_agui.run("Hello!")
    run.assert_contract(require_protocol_version=True)
    declared = run.events[0].get("protocolVersion")
    assert isinstance(declared, str), f"RUN_STARTED declares no protocolVersion: {run.events[0]}"
    assert VERSION_FORMAT.match(declared), f"protocolVersion {declared!r} is not MAJOR.MINOR"


@pytest.mark.golden_path
async def test_a_run_that_calls_a_tool_shows_the_tool_run_and_complete(
    gp_agui: AGUIClient,
) -> None:
    run = await gp_agui.run(TOOL_PROMPT)
    run.assert_contract(stages=[Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED, Stage.COMPLETED])
    (call, *_) = run.tool_calls
    assert call["name"], call
    assert call["result"] is not None, f"tool call {call['toolCallId']} has no TOOL_CALL_RESULT"
    assert run.text.strip(), "no answer after the tool's result"


async def test_a_second_turn_on_the_same_thread_is_a_valid_run_of_its_own(
    gp_agui: AGUIClient,
) -> None:
    thread = f"thread-{uuid.uuid4()}"
    first = await gp_agui.run("Hello!", thread_id=thread)
    first.assert_contract()
    history = [
        *first.input["messages"],
        {"id": f"msg-{uuid.uuid4()}", "role": "assistant", "content": first.text},
    ]
    second = await gp_agui.run(TOOL_PROMPT, thread_id=thread, messages=history)
    second.assert_contract(stages=[Stage.TOOL_COMPLETED])
    assert second.run_id != first.run_id


async def test_concurrent_runs_on_separate_threads_do_not_mix(gp_agui: AGUIClient) -> None:
    prompts = [TOOL_PROMPT, "Hello!", TOOL_PROMPT, "Hi there."]
    runs = await asyncio.gather(*(gp_agui.run(p) for p in prompts))
    for run in runs:
        run.assert_contract()  # every RUN_STARTED/RUN_FINISHED names this run's own ids
    ids_of = [
        {e.get(k) for e in run.events for k in ("messageId", "toolCallId") if e.get(k)}
        for run in runs
    ]
    for n, ids in enumerate(ids_of):
        for m in range(n + 1, len(runs)):
            assert not ids & ids_of[m], f"runs {n} and {m} share message/tool call ids"
    assert len({run.thread_id for run in runs}) == len(runs)


async def test_a_client_that_disconnects_mid_run_leaves_the_server_serving(
    gp_agui: AGUIClient,
) -> None:
    async with gp_agui.stream(LONG_PROMPT) as stream:
        async for event in stream:
            if event.get("type") in ("TEXT_MESSAGE_CONTENT", "RUN_FINISHED", "RUN_ERROR"):
                break
        await stream.close()
    cut = stream.run
    assert cut.types[0] == "RUN_STARTED"
    # What arrived before the disconnect is a valid prefix of a run.
    assert check_agui_events(cut.events, require_complete=False, run_id=cut.run_id) == []
    after = await gp_agui.run("Are you still there?")
    after.assert_contract()
    assert after.terminal is not None
    assert after.terminal["type"] == "RUN_FINISHED"


async def test_the_error_path_ends_the_run_with_run_error(gp_agui: AGUIClient) -> None:
    if ERROR_PROMPT is None:
        pytest.skip(
            "GOLDEN_PATH_AGUI_ERROR_PROMPT is not set: no known way to make this agent fail"
        )
    run = await gp_agui.run(ERROR_PROMPT)
    run.assert_contract(stages=[Stage.STARTED, Stage.ERROR])
    assert run.terminal is not None
    assert run.terminal["type"] == "RUN_ERROR"
    assert run.terminal["message"], "RUN_ERROR without a message for a person to read"
    after = await gp_agui.run("Hello again.")
    after.assert_contract(stages=[Stage.COMPLETED])


@pytest.mark.security
async def test_a_malformed_run_input_is_refused_or_ends_in_run_error(
    gp_agui: AGUIClient,
) -> None:
    bad = {"threadId": 42, "runId": ["not", "a", "string"], "messages": "hello"}
    status: int | None = None
    try:
        run = await gp_agui.run(input=bad)
    except AGUIHTTPError as refused:
        status = refused.status
    if status is not None:
        assert 400 <= status < 500, f"a malformed input got HTTP {status}, not a 4xx"
        return
    assert run.terminal is not None, f"a malformed input got a stream with no end: {run.types}"
    assert run.terminal["type"] == "RUN_ERROR", run.types
    assert check_agui_events(run.events) == []


@pytest.mark.security
async def test_without_the_bearer_token_the_server_refuses_the_run(gp_agui_factory) -> None:
    if TOKEN is None:
        pytest.skip("GOLDEN_PATH_AGUI_TOKEN is not set: the server under test needs no token")
    anonymous = await gp_agui_factory(token=None)
    with pytest.raises(AGUIHTTPError) as refused:
        await anonymous.run("Hello!")
    assert refused.value.status in (401, 403)
    wrong = await gp_agui_factory(token="not-the-token")
    with pytest.raises(AGUIHTTPError):
        await wrong.run("Hello!")
