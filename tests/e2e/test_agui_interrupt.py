"""An AG-UI run pauses before a tool its tier prices above its approval threshold (§12.1).

The reference server's ``POST /agui`` stops a run at the ``tool_executing`` of a tool
priced above the tier's ``approval_above_usd`` (``golden_path/tiers.py``):
``RUN_FINISHED`` with ``outcome: interrupt``. The next run on the thread answers it in
``RunAgentInput.resume`` and continues the same server run to its end (approved: the
tool runs; denied: it does not), billed once, persisted, seen on the v1 socket as any
run. Bad answers are refused clearly and lose nothing; another user cannot answer it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.agent.agent import DENIED
from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.conformance.v1 import agui_helpers
from golden_path.protocol import APPROVAL_FIELD, ErrorCode, EventType
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.services.model import Services
from golden_path.testing.agui.client import AGUIClient, AGUIRun
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.server.reference import start_reference_server
from golden_path.testing.v1.contract import assert_events
from golden_path.tiers import TOOL_CALL_USD, Tier, Tool

# The fixture, by the name the tests ask for (pytest finds it in this module).
agui = agui_helpers.agui

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "A costly tool runs only once the user agrees: the run pauses, the UI asks, and "
            "the answer continues or ends the same work, billed once and kept in history."
        ),
        revenue_impact=(
            "Spend guards are what larger customers ask for before they let an agent act; a "
            "pause that lost the work, billed it twice or could be answered by someone else "
            "would cost their trust."
        ),
    ),
]

# advanced_analytics (0.50 USD a call) is above the enterprise threshold (0.25 USD).
FORECAST = "Forecast our spend and flag anomalies: gpt-4o at 2M tokens/day."


def server_ids(run: AGUIRun) -> dict[str, Any]:
    first = run.events[0]
    assert first["type"] == AGUIType.RUN_STARTED, run.types
    return dict(first["metadata"][METADATA_KEY])


def assert_finished(run: AGUIRun) -> None:
    assert run.terminal is not None, run.types
    assert run.terminal["type"] == AGUIType.RUN_FINISHED, run.terminal


def lone_error(run: AGUIRun) -> Mapping[str, Any]:
    assert run.types == [AGUIType.RUN_ERROR], run.types
    return dict(run.events[0])


async def paused(client: AGUIClient) -> AGUIRun:
    run = await client.run(FORECAST, thread_id=f"thread-{uuid.uuid4()}")
    run.assert_contract(strict=True)
    (interrupt,) = run.interrupts
    assert run.tool_calls[-1]["name"] == Tool.ADVANCED_ANALYTICS.value
    assert interrupt["toolCallId"] == run.tool_calls[-1]["toolCallId"]
    assert run.tool_calls[-1]["result"] is None  # it has not run
    return run


async def paused_for_a_new_user(
    gp_user: Any, agui: Any, gp_client: Any = None
) -> tuple[GoldenPathUser, AGUIClient, AGUIRun, GoldenPathSocket | None]:
    """A new enterprise user, their AG-UI client and a run of theirs paused by ``paused``;
    with ``gp_client``, also a socket of the user's, opened first: it sees the whole run."""
    user = await gp_user(Tier.ENTERPRISE)
    sock = await gp_client(user) if gp_client is not None else None
    client = agui(user)
    return user, client, await paused(client), sock


def resume_input(run: AGUIRun, entries: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return AGUIClient.make_input(
        thread_id=fields.pop("thread_id", run.thread_id),
        messages=[*run.input["messages"], *run.history()],
        resume=entries,
        **fields,
    )


@pytest.mark.golden_path
async def test_an_approved_interrupt_runs_the_tool_and_ends_the_same_run_billed_once(
    gp_user, gp_client, gp_api: GoldenPathHTTP, agui
) -> None:
    user, client, run, sock = await paused_for_a_new_user(gp_user, agui, gp_client)
    interrupt = run.interrupts[0]
    assert interrupt["reason"] == "tool_approval"
    assert interrupt["metadata"][METADATA_KEY]["cost_usd"] == TOOL_CALL_USD[Tool.ADVANCED_ANALYTICS]
    assert (
        interrupt["metadata"][METADATA_KEY]["limit_usd"]
        == Tier.ENTERPRISE.limits.approval_above_usd
    )
    run_id = server_ids(run)["run_id"]
    waiting = await gp_api.run(user.access_token, run_id)
    assert waiting["status"] == "running"
    assert waiting["events"][-1][APPROVAL_FIELD]["interrupt_id"] == interrupt["id"]
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 0  # nothing billed yet

    resumed = await client.resume(run, approve=True)

    resumed.assert_contract(strict=True)
    assert server_ids(resumed)["run_id"] == run_id  # the same server run goes on
    assert server_ids(resumed)["resumes"] == interrupt["id"]
    (result,) = [e for e in resumed.events if e["type"] == AGUIType.TOOL_CALL_RESULT]
    assert result["toolCallId"] == interrupt["toolCallId"]
    assert result["metadata"][METADATA_KEY]["success"] is True
    assert "forecast" in json.loads(result["content"])
    assert_finished(resumed)
    assert resumed.interrupts == []
    done = await gp_api.run(user.access_token, run_id)
    assert done["status"] == "succeeded"
    assert_events(done["events"])  # one whole v1 run, pause included
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1
    assert done["events"][-1]["final_response"] == resumed.text
    thread = await gp_api.thread(user.access_token, server_ids(run)["thread_id"])
    assert [m["content"] for m in thread["messages"]] == [FORECAST, resumed.text]  # one run
    # The user's socket saw both halves of the run, as any run's events.
    end = await sock.wait_for(
        lambda f: f.get("run_id") == run_id and f.get("type") == EventType.AGENT_COMPLETED.value
    )
    assert end["event_id"] == done["events"][-1]["event_id"]
    seen = [f["event_id"] for f in sock.events() if f.get("run_id") == run_id]
    assert seen == [e["event_id"] for e in done["events"]]


async def test_a_denied_interrupt_ends_the_run_without_running_the_tool(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user, client, run, _ = await paused_for_a_new_user(gp_user, agui)

    resumed = await client.resume(run, approve=False)

    resumed.assert_contract(strict=True)
    (result,) = [e for e in resumed.events if e["type"] == AGUIType.TOOL_CALL_RESULT]
    assert result["toolCallId"] == run.interrupts[0]["toolCallId"]
    assert json.loads(result["content"]) == {"error": DENIED}
    assert_finished(resumed)
    done = await gp_api.run(user.access_token, server_ids(run)["run_id"])
    assert done["status"] == "succeeded"
    assert done["result"]["failed_tools"] == [Tool.ADVANCED_ANALYTICS.value]
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


async def test_bad_answers_are_refused_clearly_and_the_interrupt_stays_answerable(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user, client, run, _ = await paused_for_a_new_user(gp_user, agui)
    interrupt_id = run.interrupts[0]["id"]
    approve = {"interruptId": interrupt_id, "status": "resolved", "payload": {"approved": True}}

    unknown = await client.run(
        input=resume_input(run, [{**approve, "interruptId": "int_" + "0" * 32}])
    )
    assert lone_error(unknown)["code"] == ErrorCode.INVALID_MESSAGE
    assert "no interrupt" in lone_error(unknown)["message"]
    no_answer = await client.run(input=resume_input(run, [{**approve, "payload": "yes"}]))
    assert lone_error(no_answer)["code"] == ErrorCode.INVALID_MESSAGE
    assert "approved" in lone_error(no_answer)["message"]
    two = await client.run(input=resume_input(run, [approve, approve]))
    assert "exactly one" in lone_error(two)["message"]
    elsewhere = await client.run(
        input=resume_input(run, [approve], thread_id=f"thread-{uuid.uuid4()}")
    )
    assert "another thread" in lone_error(elsewhere)["message"]

    answer = resume_input(run, [approve])
    first = await client.run(input=answer)  # still answerable: nothing was lost
    assert_finished(first)
    again = await client.run(input=answer)  # the same runId: a replay, not a second answer
    assert again.events == first.events
    twice = await client.run(input=resume_input(run, [approve]))  # another runId
    assert lone_error(twice)["code"] == ErrorCode.INVALID_MESSAGE
    assert "answered already" in lone_error(twice)["message"]
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


async def test_two_answers_at_once_continue_the_run_exactly_once(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    user, client, run, _ = await paused_for_a_new_user(gp_user, agui)

    answers = await asyncio.gather(
        client.resume(run, approve=True), client.resume(run, approve=False)
    )

    went_on = [a for a in answers if a.types != [AGUIType.RUN_ERROR]]
    refused = [lone_error(a) for a in answers if a.types == [AGUIType.RUN_ERROR]]
    assert len(went_on) == 1, [a.types for a in answers]
    assert_finished(went_on[0])
    assert [e["message"] for e in refused] == [
        f"interrupt {run.interrupts[0]['id']} was answered already"
    ]
    done = await gp_api.run(user.access_token, server_ids(run)["run_id"])
    completed = [e for e in done["events"] if e["type"] == EventType.TOOL_COMPLETED.value]
    assert [e["tool_call_id"] for e in completed].count(run.interrupts[0]["toolCallId"]) == 1
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


async def test_another_user_cannot_answer_or_see_someone_elses_interrupt(
    gp_user, gp_api: GoldenPathHTTP, agui
) -> None:
    owner, attacker = await gp_user(Tier.ENTERPRISE), await gp_user(Tier.ENTERPRISE)
    run = await paused(agui(owner))
    interrupt_id = run.interrupts[0]["id"]
    approve = [{"interruptId": interrupt_id, "status": "resolved", "payload": {"approved": True}}]
    owners_thread = server_ids(run)["thread_id"]

    # The attacker names the owner's interrupt on the owner's server thread, and on the
    # owner's own name for the thread: both are refused as if the interrupt did not exist.
    for thread in (owners_thread, run.thread_id):
        stolen = await agui(attacker).run(input=resume_input(run, approve, thread_id=thread))
        error = lone_error(stolen)
        assert error["code"] == ErrorCode.INVALID_MESSAGE
        assert error["message"] == f"no interrupt {interrupt_id!r} of this user"
    assert (await gp_api.events(attacker.access_token))["events"] == []
    assert (await gp_api.usage(attacker.access_token))["totals"]["runs"] == 0

    # The owner's run is untouched: still paused, and theirs to approve.
    assert (await gp_api.run(owner.access_token, server_ids(run)["run_id"]))["status"] == "running"
    resumed = await agui(owner).resume(run, approve=True)
    assert_finished(resumed)


async def test_replaying_the_paused_run_replays_its_pause(gp_user, agui) -> None:
    _, client, run, _ = await paused_for_a_new_user(gp_user, agui)
    await client.resume(run, approve=True)
    again = await client.run(input=run.input)
    assert again.events == run.events


async def test_a_tier_without_a_threshold_never_pauses(gp_user, agui) -> None:
    user = await gp_user(Tier.EARLY)
    assert Tier.EARLY.limits.approval_above_usd is None
    run = await agui(user).run("How can we save? We use gpt-4o at 2M tokens/day.")
    run.assert_contract()
    assert run.interrupts == []
    assert_finished(run)


async def test_a_paused_run_cancelled_on_the_socket_ends_and_cannot_be_answered(
    gp_user, gp_client, gp_api: GoldenPathHTTP, agui
) -> None:
    user, client, run, sock = await paused_for_a_new_user(gp_user, agui, gp_client)
    run_id = server_ids(run)["run_id"]

    await sock.cancel(run_id)  # no node runs a paused run: the cancel ends it where it is

    end = await sock.wait_for(
        lambda f: f.get("run_id") == run_id and f.get("type") == EventType.AGENT_ERROR.value
    )
    assert end["code"] == "cancelled"
    assert (await gp_api.run(user.access_token, run_id))["status"] == "cancelled"
    late = await client.resume(run, approve=True)
    assert (
        lone_error(late)["message"]
        == f"the run of interrupt {run.interrupts[0]['id']} ended (cancelled)"
    )
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 0


@pytest.mark.reference_only
async def test_a_paused_run_outlives_its_node_and_another_node_continues_it(
    dedicated_server: ServerEndpoint, gp_services: Services, gp_user, gp_api: GoldenPathHTTP
) -> None:
    user = await gp_user(Tier.ENTERPRISE)
    async with AGUIClient(dedicated_server.base_url + AGUI_PATH, token=user.access_token) as a:
        run = await paused(a)
    assert dedicated_server.thread is not None
    dedicated_server.thread.stop()  # the node that paused the run is gone
    # A node that starts ends the runs of stopped nodes, but not one waiting for its user.
    other = start_reference_server(gp_services)
    try:
        async with AGUIClient(other.base_url + AGUI_PATH, token=user.access_token) as b:
            resumed = await b.resume(run, approve=True)
    finally:
        assert other.thread is not None
        other.thread.stop()
    resumed.assert_contract()
    assert_finished(resumed)
    done = await gp_api.run(user.access_token, server_ids(run)["run_id"])
    assert done["status"] == "succeeded"
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1
