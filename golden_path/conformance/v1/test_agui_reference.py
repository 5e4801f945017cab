"""The reference server speaks AG-UI: ``POST /agui`` streams a run of the server (protocol §12).

An AG-UI run is an ordinary run: judged by the AG-UI contract on the wire, and
then found where every run is found (``GET /runs/{id}``, ``GET /events``, the
thread, the usage ledger, a socket of the same user), billed once, refused with
the v1 error codes. The AG-UI ids the client chose are echoed; the server's own
are in ``metadata["golden_path"]`` of ``RUN_STARTED``.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_agui_reference.py``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import QUESTION
from golden_path.conformance.v1 import agui_helpers, bvj
from golden_path.conformance.v1.agui_helpers import origin, started
from golden_path.protocol import ErrorCode, EventType
from golden_path.testing.agui.client import AGUIClient, AGUIHTTPError, AGUIRun
from golden_path.testing.agui.contract import Stage
from golden_path.tiers import Tier

# The fixture, by the name the tests ask for (pytest finds it in this module).
agui = agui_helpers.agui

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("events"),
    bvj.AGUI_REFERENCE,
]


def of_type(run: AGUIRun, kind: AGUIType) -> list[Mapping[str, Any]]:
    return [e for e in run.events if e["type"] == kind]


@pytest.mark.golden_path
async def test_an_agui_run_is_a_run_of_the_server_persisted_visible_and_billed_once(
    gp_user, gp_client, gp_api: GoldenPathHTTP, agui
) -> None:
    user = await gp_user(Tier.MID)
    sock = await gp_client(user)  # another connection of the same user sees the run live
    run = await agui(user).run(QUESTION)

    run.assert_contract(
        stages=[
            Stage.STARTED,
            Stage.THINKING,
            Stage.TOOL_EXECUTING,
            Stage.TOOL_COMPLETED,
            Stage.COMPLETED,
        ]
    )
    assert run.terminal is not None
    assert run.terminal["type"] == AGUIType.RUN_FINISHED
    server = started(run)
    stored = await gp_api.run(user.access_token, server["run_id"])
    assert stored["status"] == "succeeded"
    assert stored["request_id"] == run.run_id  # the AG-UI runId is the idempotency key
    # Every AG-UI event names the persisted v1 event it came from, in seq order.
    seqs = [e["seq"] for e in stored["events"]]
    assert sorted({origin(e)["seq"] for e in run.events}) == seqs
    assert {e["seq"] for e in (await gp_api.events(user.access_token))["events"]} >= set(seqs)
    # The answer is the persisted agent_completed's, in the thread's history.
    completed = stored["events"][-1]
    assert completed["type"] == EventType.AGENT_COMPLETED.value
    assert run.text == completed["final_response"]
    thread = await gp_api.thread(user.access_token, server["thread_id"])
    assert [m["content"] for m in thread["messages"]] == [QUESTION, run.text]
    # RUN_FINISHED carries the run's usage; the ledger counts the run once.
    finished = run.terminal
    assert finished["usage"][0]["inputTokens"] == completed["usage"]["input_tokens"]
    assert finished["result"]["usage"] == completed["usage"]
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1
    # The user's socket saw the same run, event for event.
    live = await sock.wait_for(
        lambda f: f.get("run_id") == server["run_id"] and f.get("type") == completed["type"]
    )
    assert live["event_id"] == completed["event_id"]
    # Each tool call's arguments are the v1 parameters; its result the v1 results.
    executing = [e for e in stored["events"] if e["type"] == EventType.TOOL_EXECUTING.value]
    assert [(c["toolCallId"], c["name"], json.loads(c["args"])) for c in run.tool_calls] == [
        (e["tool_call_id"], e["tool_name"], e["parameters"]) for e in executing
    ]
    tool_completed = [e for e in stored["events"] if e["type"] == EventType.TOOL_COMPLETED.value]
    results = of_type(run, AGUIType.TOOL_CALL_RESULT)
    assert [json.loads(r["content"]) for r in results] == [e["results"] for e in tool_completed]
    assert [origin(r)["success"] for r in results] == [True] * len(tool_completed)


async def test_the_same_thread_id_continues_one_thread_of_the_user(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user = await gp_user(Tier.MID)
    client = agui(user)
    thread = f"thread-{uuid.uuid4()}"
    first = await client.run("Hello!", thread_id=thread)
    second = await client.run(QUESTION, thread_id=thread)
    for run in (first, second):
        run.assert_contract(stages=[Stage.COMPLETED])
    assert started(first)["thread_id"] == started(second)["thread_id"]
    history = await gp_api.thread(user.access_token, started(first)["thread_id"])
    contents = [m["content"] for m in history["messages"]]
    assert contents == ["Hello!", first.text, QUESTION, second.text]
    # A server thread id is accepted as the threadId too, and names that very thread.
    third = await client.run("Thanks.", thread_id=started(first)["thread_id"])
    third.assert_contract(stages=[Stage.COMPLETED])
    assert started(third)["thread_id"] == started(first)["thread_id"]
    # Another user naming the same AG-UI thread gets a thread of their own.
    other = await agui(await gp_user(Tier.MID)).run("Hello!", thread_id=thread)
    assert started(other)["thread_id"] != started(first)["thread_id"]


async def test_the_same_run_id_again_replays_the_run_and_bills_it_once(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user = await gp_user(Tier.MID)
    client = agui(user)
    first = await client.run(QUESTION)
    again = await client.run(QUESTION, thread_id=first.thread_id, run_id=first.run_id)
    again.assert_contract(stages=[Stage.COMPLETED])
    assert again.events == first.events
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


async def test_a_used_up_quota_is_a_lone_run_error_quota_exceeded(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user = await gp_user(Tier.FREE)
    client = agui(user)
    thread = f"thread-{uuid.uuid4()}"
    for n in range(Tier.FREE.limits.runs_per_day):
        run = await client.run(f"At {n + 1}M tokens/day?", thread_id=thread)
        assert run.terminal is not None
        assert run.terminal["type"] == AGUIType.RUN_FINISHED
    refused = await client.run(QUESTION, thread_id=thread)
    refused.assert_contract(stages=[Stage.ERROR])
    (error,) = refused.events  # no RUN_STARTED: no run was started
    assert error["type"] == AGUIType.RUN_ERROR
    assert error["code"] == ErrorCode.QUOTA_EXCEEDED.value
    assert origin(error)["upgrade"]["required_tier"] == Tier.EARLY.value
    usage = await gp_api.usage(user.access_token)
    assert usage["totals"]["runs"] == Tier.FREE.limits.runs_per_day


@pytest.mark.parametrize(
    ("code", "ask"),
    [
        (ErrorCode.MESSAGE_TOO_LONG, {"message": "x" * (Tier.FREE.limits.max_message_chars + 1)}),
        (ErrorCode.THREAD_NOT_FOUND, {"message": "Hello!", "thread_id": "thr_" + "0" * 32}),
        (
            ErrorCode.INVALID_MESSAGE,
            {"messages": [{"id": "m1", "role": "assistant", "content": "Hello, I am..."}]},
        ),
        (ErrorCode.INVALID_MESSAGE, {"message": ""}),
    ],
    ids=["message_too_long", "thread_not_found", "no_user_message", "empty_message"],
)
async def test_a_refused_message_is_a_lone_run_error_with_the_v1_code_and_writes_nothing(
    gp_user, gp_api: GoldenPathHTTP, agui, code: ErrorCode, ask: dict[str, Any]
) -> None:
    user = await gp_user(Tier.FREE)
    refused = await agui(user).run(**ask)
    refused.assert_contract(stages=[Stage.ERROR])
    assert [(e["type"], e["code"]) for e in refused.events] == [(AGUIType.RUN_ERROR, code.value)]
    assert refused.events[0]["message"]
    assert (await gp_api.threads(user.access_token))["threads"] == []
    assert (await gp_api.events(user.access_token))["events"] == []


@pytest.mark.security
async def test_without_a_valid_bearer_token_agui_answers_401_and_runs_nothing(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user = await gp_user(Tier.FREE)
    for client in (agui(None), AGUIClient(agui(None).url, token="not-a-jwt")):
        with pytest.raises(AGUIHTTPError) as refused:
            await client.run("Hello!")
        assert refused.value.status == 401
        await client.aclose()
    with pytest.raises(AGUIHTTPError) as malformed:
        await agui(user).run(input={"threadId": 1, "runId": [], "messages": "hello"})
    assert malformed.value.status == 422
    assert (await gp_api.events(user.access_token))["events"] == []
