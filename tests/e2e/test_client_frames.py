"""§4 client frames over real sockets: user_message, ping, authenticate and cancel."""

from __future__ import annotations

import pytest

from golden_path.ids import RequestID, RunID
from golden_path.protocol import (
    AgentErrorCode,
    CloseCode,
    ErrorCode,
    EventType,
    RunStatus,
    ServerFrame,
)
from golden_path.testing.server.reference import start_reference_server
from golden_path.testing.v1.contract import assert_events, split_runs
from golden_path.tiers import TIER_LIMITS, Tier
from tests.e2e.support import (
    SLOW_STEP_DELAY_MS,
    WAIT_S,
    answer_to,
    assert_open,
    new_request_id,
    send_expecting_error,
    terminal_of,
)

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Conversations continue in their thread, clients can stop a run they no "
        "longer want and renew their credentials without dropping the stream",
        revenue_impact="Lost threads, unstoppable runs or sockets dropped at token renewal make "
        "the agent feel broken and drive churn of paying users",
    ),
]

QUESTION = "We use gpt-4o at 2M tokens/day. How can we save?"


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


# --- cancel -----------------------------------------------------------------------------
#
# These tests cancel once the run's first agent_thinking has arrived: the run is then
# waiting for its next step. Cancelling the instant agent_started arrives is the subject of
# its own test (on a server of its own), because it can catch the run mid-query.

POOL_SIZE = 2


@pytest.fixture
def small_pool_server(gp_services):
    """A slow node with a database pool of ``POOL_SIZE`` connections."""
    endpoint = start_reference_server(
        gp_services, agent_step_delay_ms=SLOW_STEP_DELAY_MS, db_pool_size=POOL_SIZE
    )
    try:
        yield endpoint
    finally:
        endpoint.thread.stop()


@pytest.mark.reference_only
@pytest.mark.tier("free")
async def test_cancel_ends_the_run_with_a_cancelled_agent_error_and_nothing_after_it(
    gp_user, connect_to, slow_server, gp_api
):
    user = await gp_user("free")
    sock = await connect_to(slow_server, user)
    handle = await sock.send_message(QUESTION)
    underway = await handle.first(EventType.AGENT_THINKING)
    await sock.cancel(underway["run_id"])
    events = await handle.wait()
    terminal = events[-1]
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    assert_events(events)

    stored = await gp_api.run(user.access_token, underway["run_id"])
    assert stored["status"] == RunStatus.CANCELLED.value
    assert [e["event_id"] for e in stored["events"]] == [e["event_id"] for e in events]

    # The free plan runs one at a time: a second run is admitted only once the first has
    # really ended. Whatever the first run still sent would have arrived before the second
    # run's events, which share the ordered stream.
    after = await sock.send_message("Another question, then")
    second = await after.first(EventType.AGENT_THINKING)
    await sock.cancel(second["run_id"])
    await after.wait()
    runs = split_runs(sock.events())
    assert [e["event_id"] for e in runs[underway["run_id"]]] == [e["event_id"] for e in events]
    assert_events(sock.events(), first_seq=1)


@pytest.mark.reference_only
@pytest.mark.tier("mid")
async def test_cancel_from_a_socket_on_another_node_stops_the_run(
    gp_user, connect_to, slow_server, gp_client, gp_api
):
    user = await gp_user("mid")
    running_here = await connect_to(slow_server, user)
    elsewhere = await gp_client(user)
    handle = await running_here.send_message(QUESTION)
    underway = await handle.first(EventType.AGENT_THINKING)
    await elsewhere.cancel(underway["run_id"])
    terminal = await terminal_of(elsewhere, handle.request_id)
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    stored = await gp_api.run(user.access_token, underway["run_id"])
    assert stored["status"] == RunStatus.CANCELLED.value


@pytest.mark.reference_only
@pytest.mark.security
async def test_cancel_cannot_stop_another_users_run(gp_user, connect_to, slow_server, gp_api):
    owner, intruder = await gp_user("mid"), await gp_user("mid")
    owner_sock = await connect_to(slow_server, owner)
    intruder_sock = await connect_to(slow_server, intruder)
    handle = await owner_sock.send_message(QUESTION)
    underway = await handle.first(EventType.AGENT_THINKING)
    owner_since = len(owner_sock.received())
    intruder_since = len(intruder_sock.received())

    await intruder_sock.cancel(underway["run_id"])
    await intruder_sock.ping()  # frames are handled in order: the cancel has been dealt with

    # The run's next event is its next step (one step delay away), not a cancellation.
    after = await owner_sock.wait_for(
        lambda f: f.get("run_id") == underway["run_id"] and "seq" in f,
        what="the owner's run going on",
        since=owner_since,
    )
    assert after["type"] != EventType.AGENT_ERROR.value, after
    refused = await intruder_sock.wait_for(
        lambda f: f.get("type") == ServerFrame.ERROR.value,
        WAIT_S,
        what="the answer to the intruder's cancel",
        since=intruder_since,
    )
    assert refused["code"] == ErrorCode.INVALID_MESSAGE.value
    assert intruder_sock.events() == []
    stored = await gp_api.run(owner.access_token, underway["run_id"])
    assert stored["status"] == RunStatus.RUNNING.value
    await owner_sock.cancel(underway["run_id"])
    assert (await handle.wait())[-1]["code"] == AgentErrorCode.CANCELLED.value


@pytest.mark.reference_only
@pytest.mark.tier("mid")
async def test_cancelling_runs_the_instant_they_start_leaks_no_database_connection(
    gp_user, connect_to, small_pool_server
):
    user = await gp_user("mid")
    sock = await connect_to(small_pool_server, user)
    for _ in range(POOL_SIZE * 5):
        handle = await sock.send_message(QUESTION)
        started = await handle.first(EventType.AGENT_STARTED)
        await sock.cancel(started["run_id"])
        events = await handle.wait(timeout=5)
        assert events[-1]["code"] == AgentErrorCode.CANCELLED.value
    # Every pooled connection must be back: a new socket reads last_seq from the database.
    later = await connect_to(small_pool_server, user, timeout=5)
    assert later.established["last_seq"] == sock.events()[-1]["seq"]


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
