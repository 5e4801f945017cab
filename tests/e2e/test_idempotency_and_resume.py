"""§4/§6 over real sockets: a repeated request_id never starts a second run, and resume loses
and repeats nothing.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_idempotency_and_resume.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import (
    answer_to,
    new_request_id,
    terminal_of,
)
from golden_path.conformance.v1 import bvj
from golden_path.protocol import AgentErrorCode, ErrorCode, EventType
from golden_path.testing.v1.contract import split_runs

pytestmark = [
    pytest.mark.stage("persistence"),
    bvj.IDEMPOTENCY_AND_RESUME,
]

QUESTION = "We run gpt-4o-mini at 5M tokens/day. How can we save?"


@pytest.mark.reference_only
@pytest.mark.tier("mid")
async def test_a_repeated_request_id_while_its_run_is_going_starts_no_second_run(
    gp_user, connect_to, slow_server, gp_api
):
    user = await gp_user("mid")
    sock = await connect_to(slow_server, user)
    handle = await sock.send_message(QUESTION)
    underway = await handle.first(EventType.AGENT_THINKING)
    started = await handle.first(EventType.AGENT_STARTED)
    since = len(sock.received())

    await sock.send({"type": "user_message", "content": QUESTION, "request_id": handle.request_id})
    # Its agent_started was received before: one after ``since`` is the duplicate's replay.
    echoed = await sock.wait_for(
        lambda f: (
            f.get("request_id") == handle.request_id
            and f.get("type") in (EventType.AGENT_STARTED.value, "error")
        ),
        what="the replayed agent_started",
        since=since,
    )

    assert echoed["event_id"] == started["event_id"]
    assert echoed["run_id"] == underway["run_id"]
    await sock.cancel(underway["run_id"])
    terminal = await terminal_of(sock, handle.request_id, since)
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    assert set(split_runs(sock.events())) == {underway["run_id"]}
    stream = await gp_api.events(user.access_token)
    assert {e["run_id"] for e in stream["events"]} == {underway["run_id"]}


@pytest.mark.reference_only
@pytest.mark.tier("free")
async def test_a_message_refused_for_concurrency_runs_when_retried_with_its_request_id(
    gp_user, connect_to, slow_server
):
    user = await gp_user("free")
    sock = await connect_to(slow_server, user)
    first = await sock.send_message(QUESTION)
    underway = await first.first(EventType.AGENT_THINKING)
    retried = new_request_id()
    await sock.send_message(QUESTION, request_id=retried)
    refused = await answer_to(sock, retried)
    assert refused["code"] == ErrorCode.CONCURRENCY_LIMIT.value

    await sock.cancel(underway["run_id"])
    await first.wait()
    since = len(sock.received())
    await sock.send({"type": "user_message", "content": QUESTION, "request_id": retried})
    admitted = await answer_to(sock, retried, since)

    assert admitted["type"] == EventType.AGENT_STARTED.value
    assert admitted["run_id"] != underway["run_id"]
    thinking = await sock.wait_for(
        lambda f: (
            f.get("request_id") == retried and f.get("type") == EventType.AGENT_THINKING.value
        ),
        what="the retried run's first agent_thinking",
        since=since,
    )
    await sock.cancel(thinking["run_id"])
    await terminal_of(sock, retried, since)


@pytest.mark.reference_only
@pytest.mark.tier("mid")
async def test_resume_during_a_live_run_sends_every_later_event_once_in_seq_order(
    gp_user, gp_client, connect_to, slow_server
):
    user = await gp_user("mid")
    await (await gp_client(user)).ask(QUESTION)
    sock = await connect_to(slow_server, user)
    history = sock.established["last_seq"]
    handle = await sock.send_message(QUESTION)
    underway = await handle.first(EventType.AGENT_THINKING)
    assert underway["seq"] > history + 1, "the run's first events arrived live"
    after = 2
    since = len(sock.received())

    await sock.resume(after)
    await sock.ping()
    await sock.cancel(underway["run_id"])
    terminal = await terminal_of(sock, handle.request_id, since)

    sent_after_resume = [e["seq"] for e in sock.received()[since:] if "seq" in e]
    expected = list(range(after + 1, terminal["seq"] + 1))
    assert sent_after_resume == expected, (
        f"after resume({after}) the server sent seqs {sent_after_resume}; "
        f"missing {sorted(set(expected) - set(sent_after_resume))}"
    )
