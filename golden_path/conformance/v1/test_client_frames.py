"""§4 client frames over real sockets: user_message, ping, authenticate and cancel.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_client_frames.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import (
    QUESTION,
    WAIT_S,
    answer_to,
    assert_open,
    new_request_id,
    send_expecting_error,
    terminal_of,
)
from golden_path.conformance.v1 import bvj
from golden_path.ids import RequestID, RunID
from golden_path.protocol import (
    CloseCode,
    ErrorCode,
    EventType,
    RunStatus,
    ServerFrame,
)
from golden_path.testing.v1.contract import assert_events, split_runs
from golden_path.tiers import TIER_LIMITS, Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("agent"),
    bvj.CLIENT_FRAMES,
]


# --- user_message -----------------------------------------------------------------------


async def test_a_message_without_thread_id_starts_a_new_thread_each_time(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    first = await sock.ask(QUESTION)
    second = await sock.ask("And what about claude-3-haiku at 500k tokens a day?")
    first_thread, second_thread = first.events[0]["thread_id"], second.events[0]["thread_id"]
    assert first_thread != second_thread
    listed = {t["thread_id"] for t in (await gp_api.threads(user.access_token))["threads"]}
    assert listed == {first_thread, second_thread}


async def test_a_message_with_thread_id_continues_that_thread(gp_user, gp_client, gp_api):
    user = await gp_user("early")
    sock = await gp_client(user)
    first = await sock.ask(QUESTION)
    thread_id = first.events[0]["thread_id"]
    follow_up = await sock.ask("Which of those saves the most?", thread_id=thread_id)
    assert {e["thread_id"] for e in follow_up.events} == {thread_id}
    assert follow_up.terminal["type"] == EventType.AGENT_COMPLETED.value
    thread = await gp_api.thread(user.access_token, thread_id)
    assert [m["role"] for m in thread["messages"]] == ["user", "assistant"] * 2
    assert len((await gp_api.threads(user.access_token))["threads"]) == 1


async def test_run_events_carry_the_request_id_the_client_chose(gp_user, gp_client):
    user = await gp_user("mid")
    sock = await gp_client(user)
    request_id = "client-chosen_ID-42"
    run = await sock.ask(QUESTION, request_id=request_id)
    assert {e["request_id"] for e in run.events} == {request_id}
    assert_events(run.events)


async def test_a_message_without_request_id_gets_one_minted_by_the_server(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user)
    await sock.send({"type": "user_message", "content": QUESTION})
    terminal = await sock.wait_for(
        lambda f: "seq" in f and EventType(f["type"]).is_terminal, WAIT_S, what="a terminal event"
    )
    run = split_runs(sock.events())[terminal["run_id"]]
    request_ids = {e["request_id"] for e in run}
    assert len(request_ids) == 1
    (minted,) = request_ids
    assert RequestID.is_valid(minted)
    assert minted.startswith(RequestID.prefix)
    assert_events(run)


async def test_events_reach_every_socket_of_the_user_and_no_other_users(gp_user, gp_client):
    owner, stranger = await gp_user("early"), await gp_user("early")
    asking, watching = await gp_client(owner), await gp_client(owner, method="ticket")
    other = await gp_client(stranger)
    run = await asking.ask(QUESTION)
    seen = await terminal_of(watching, run.request_id)
    assert seen["event_id"] == run.terminal["event_id"]
    assert [e["event_id"] for e in watching.events()] == [e["event_id"] for e in run.events]
    await assert_open(other)
    assert other.events() == []


# --- ping -------------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user)
    since = len(sock.received())
    await sock.ping()
    assert sock.received()[since:] == [{"type": ServerFrame.PONG.value}]


# --- authenticate -------------------------------------------------------------------------


async def test_authenticate_with_a_fresh_token_is_acknowledged_and_the_socket_works_on(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    fresh = await gp_api.refresh(user.refresh_token)
    answer = await sock.authenticate(fresh.access_token)
    assert answer["type"] == ServerFrame.AUTHENTICATED.value
    assert 0 < answer["expires_in"] <= fresh.expires_in
    run = await sock.ask(QUESTION)
    assert run.terminal["type"] == EventType.AGENT_COMPLETED.value


@pytest.mark.tier("free")
async def test_authenticate_with_an_upgraded_token_applies_the_new_tier_on_the_same_socket(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    content = "x" * (TIER_LIMITS[Tier.FREE].max_message_chars + 1)
    refused = await send_expecting_error(
        sock, {"type": "user_message", "content": content, "request_id": new_request_id()}
    )
    assert refused["code"] == ErrorCode.MESSAGE_TOO_LONG.value
    upgraded = await gp_api.upgrade(user.access_token, Tier.MID.value)
    await sock.authenticate(upgraded.access_token)
    run = await sock.ask(content)
    assert run.terminal["type"] == EventType.AGENT_COMPLETED.value


@pytest.mark.security
@pytest.mark.parametrize(
    "kind", ["another_users", "other_key", "expired", "refresh_token", "logged_out", "not_a_jwt"]
)
async def test_authenticate_with_an_unacceptable_token_closes_4401(
    gp_user, gp_client, gp_api, gp_jwt, kind
):
    user = await gp_user("mid")
    sock = await gp_client(user)
    if kind == "another_users":
        token = (await gp_user("mid")).access_token
    elif kind == "other_key":
        token = gp_jwt.other_key(user.user_id, user.tier)
    elif kind == "expired":
        token = gp_jwt.expired(user.user_id, user.tier)
    elif kind == "refresh_token":
        token = user.refresh_token
    elif kind == "logged_out":
        second = await gp_api.login(user.email, user.password)
        await gp_api.logout(second.access_token)
        token = second.access_token
    else:
        token = "not-a-jwt"
    await sock.send({"type": "authenticate", "token": token})
    assert await sock.wait_closed(WAIT_S) == CloseCode.UNAUTHORIZED


async def test_cancel_of_an_unknown_run_is_refused_invalid_message(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user)
    error = await send_expecting_error(sock, {"type": "cancel", "run_id": str(RunID.new())})
    assert error["code"] == ErrorCode.INVALID_MESSAGE.value
    assert [d["field"] for d in error.get("details", [])] == ["run_id"]
    await assert_open(sock)


async def test_cancel_of_a_finished_run_is_refused_and_the_run_stays_succeeded(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    finished = await sock.ask(QUESTION)
    # A second whole run later, the first one's task is long over on the server.
    await sock.ask("And with a cheaper model?")
    error = await send_expecting_error(sock, {"type": "cancel", "run_id": finished.run_id})
    assert error["code"] == ErrorCode.INVALID_MESSAGE.value
    await assert_open(sock)
    stored = await gp_api.run(user.access_token, finished.run_id)
    assert stored["status"] == RunStatus.SUCCEEDED.value
    assert len(stored["events"]) == len(finished.events)


@pytest.mark.tier("mid")
async def test_a_cancel_sent_the_moment_agent_completed_arrives_is_refused_invalid_message(
    gp_user, gp_client
):
    # The run is over for the client once agent_completed arrives; a cancel it sends right
    # then names a finished run, and is answered like any cancel of a finished run. Several
    # rounds, because the moment between the event and the end of the run's work is short.
    sock = await gp_client(await gp_user("mid"))
    for _ in range(30):
        handle = await sock.send_message(QUESTION)
        completed = await handle.first(EventType.AGENT_COMPLETED)
        since = len(sock.received())
        await sock.cancel(completed["run_id"])
        reply = await sock.wait_for(
            lambda f: f.get("type") == ServerFrame.ERROR.value,
            5,
            what=f"the answer to cancelling the finished run {completed['run_id']}",
            since=since,
        )
        assert reply["code"] == ErrorCode.INVALID_MESSAGE.value


async def test_concurrent_messages_each_run_and_share_one_gapless_stream(gp_user, gp_client):
    user = await gp_user("enterprise")
    sock = await gp_client(user)
    request_ids = [new_request_id() for _ in range(3)]
    for request_id in request_ids:
        await sock.send({"type": "user_message", "content": QUESTION, "request_id": request_id})
    for request_id in request_ids:
        assert (await answer_to(sock, request_id))["type"] == EventType.AGENT_STARTED.value
        assert (await terminal_of(sock, request_id))["type"] == EventType.AGENT_COMPLETED.value
    assert_events(sock.events(), first_seq=1)
