"""§4/§6 over real sockets: a repeated request_id never starts a second run, and resume loses
and repeats nothing.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_idempotency_and_resume.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from golden_path.conformance.support import (
    assert_open,
    new_request_id,
    terminal_of,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import EventType
from golden_path.testing.v1.contract import assert_events

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("persistence"),
    bvj.IDEMPOTENCY_AND_RESUME,
]

QUESTION = "We run gpt-4o-mini at 5M tokens/day. How can we save?"


async def replay_of(sock, request_id: str, count: int) -> list[dict[str, Any]]:
    """Send ``request_id`` again; the ``count`` events that come back for it."""
    since = len(sock.received())
    await sock.send({"type": "user_message", "content": QUESTION, "request_id": request_id})
    await terminal_of(sock, request_id, since)
    replayed = [e for e in sock.received()[since:] if "seq" in e]
    assert len(replayed) == count, replayed
    return replayed


# --- request_id idempotency -------------------------------------------------------------


async def test_a_repeated_request_id_starts_no_run_and_resends_the_same_events(
    gp_user, gp_client, gp_api
):
    user = await gp_user("early")
    sock = await gp_client(user)
    request_id = new_request_id()
    first = await sock.ask(QUESTION, request_id=request_id)

    replayed = await replay_of(sock, request_id, len(first.events))

    assert replayed == first.events
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1
    stream = await gp_api.events(user.access_token)
    assert [e["event_id"] for e in stream["events"]] == [e["event_id"] for e in first.events]


async def test_a_repeated_request_id_on_a_new_socket_is_replayed_there_only(
    gp_user, gp_client, gp_api
):
    user = await gp_user("mid")
    first_sock = await gp_client(user)
    request_id = new_request_id()
    first = await first_sock.ask(QUESTION, request_id=request_id)
    await first_sock.close()
    again, bystander = await gp_client(user), await gp_client(user)

    replayed = await replay_of(again, request_id, len(first.events))

    assert [e["event_id"] for e in replayed] == [e["event_id"] for e in first.events]
    assert [e["seq"] for e in replayed] == [e["seq"] for e in first.events]
    await assert_open(bystander)
    assert bystander.events() == []
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


async def test_a_repeated_request_id_with_other_content_still_replays_the_first_run(
    gp_user, gp_client, gp_api
):
    user = await gp_user("free")
    sock = await gp_client(user)
    request_id = new_request_id()
    first = await sock.ask(QUESTION, request_id=request_id)
    since = len(sock.received())
    await sock.send(
        {"type": "user_message", "content": "Something else entirely", "request_id": request_id}
    )
    terminal = await terminal_of(sock, request_id, since)
    assert terminal["event_id"] == first.terminal["event_id"]
    threads = (await gp_api.threads(user.access_token))["threads"]
    assert [t["thread_id"] for t in threads] == [first.events[0]["thread_id"]]


@pytest.mark.security
async def test_request_ids_belong_to_their_user(gp_user, gp_client, gp_api):
    alice, bob = await gp_user("early"), await gp_user("early")
    alice_sock, bob_sock = await gp_client(alice), await gp_client(bob)
    request_id = new_request_id()
    alice_run = await alice_sock.ask(QUESTION, request_id=request_id)
    bob_run = await bob_sock.ask(QUESTION, request_id=request_id)
    assert alice_run.run_id != bob_run.run_id
    assert {e["user_id"] for e in bob_run.events} == {bob.user_id}
    assert bob_run.events[0]["seq"] == 1
    for user in (alice, bob):
        assert (await gp_api.usage(user.access_token))["totals"]["runs"] == 1


# --- resume -----------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["zero", "middle", "newest"])
async def test_resume_on_a_new_socket_sends_every_later_event_once_in_order(
    gp_user, gp_client, gp_api, point
):
    user = await gp_user("early")
    writer = await gp_client(user)
    await writer.ask(QUESTION)
    await writer.ask("And if we moved half of it to a cheaper model?")
    newest = writer.events()[-1]["seq"]
    after = {"zero": 0, "middle": newest // 2, "newest": newest}[point]
    reader = await gp_client(user)
    assert reader.established["last_seq"] == newest

    await reader.resume(after)
    # Frames leave a connection in order: everything the resume sends precedes the pong.
    await reader.ping()

    received = reader.events()
    assert [e["seq"] for e in received] == list(range(after + 1, newest + 1))
    stored = (await gp_api.events(user.access_token, after_seq=after))["events"]
    assert [e["event_id"] for e in received] == [e["event_id"] for e in stored]
    if after == 0:
        assert_events(received, first_seq=1)


async def test_after_a_resume_live_events_follow_with_no_gap_and_no_repeat(gp_user, gp_client):
    user = await gp_user("mid")
    writer = await gp_client(user)
    await writer.ask(QUESTION)
    reader = await gp_client(user)
    await reader.resume(0)
    await reader.ping()

    run = await reader.ask("What would a report for my team say?")

    assert run.terminal["type"] == EventType.AGENT_COMPLETED.value
    events = reader.events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert_events(events, first_seq=1)


@pytest.mark.security
async def test_resume_never_sends_another_users_events(gp_user, gp_client):
    owner, stranger = await gp_user("free"), await gp_user("free")
    await (await gp_client(owner)).ask(QUESTION)
    snooper = await gp_client(stranger)
    assert snooper.established["last_seq"] == 0
    await snooper.resume(0)
    await snooper.ping()
    assert snooper.events() == []


async def test_a_socket_that_dropped_mid_run_gets_every_later_event_once_by_resume(
    gp_user, gp_client
):
    user = await gp_user("early")
    first = await gp_client(user)
    handle = await first.send_message(QUESTION)
    seen = await handle.first(EventType.AGENT_STARTED)
    await first.drop()
    second = await gp_client(user)
    await second.resume(seen["seq"])
    terminal = await terminal_of(second, handle.request_id)
    await second.ping()
    received = [e["seq"] for e in second.events()]
    # The resume starts where the last occurrence of seen+1 is (an event that went out live
    # before the resume was read comes again inside it); from there every later event
    # arrives once, in order.
    start = len(received) - 1 - received[::-1].index(seen["seq"] + 1)
    resumed = second.events()[start:]
    assert [e["seq"] for e in resumed] == list(range(seen["seq"] + 1, terminal["seq"] + 1))
    assert_events([seen, *resumed], first_seq=seen["seq"])
