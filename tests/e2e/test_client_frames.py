"""§4 client frames over real sockets: user_message, ping, authenticate and cancel.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_client_frames.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import (
    QUESTION,
    SLOW_STEP_DELAY_MS,
    WAIT_S,
    terminal_of,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import (
    AgentErrorCode,
    ErrorCode,
    EventType,
    RunStatus,
    ServerFrame,
)
from golden_path.testing.server.reference import start_reference_server
from golden_path.testing.v1.contract import assert_events, split_runs

pytestmark = [
    pytest.mark.stage("agent"),
    bvj.CLIENT_FRAMES,
]


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
