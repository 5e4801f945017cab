"""The golden path on a bad day: several server processes, dropped sockets, crashes, shutdowns.

Every fault is real: a second ``golden-path serve`` process, a socket aborted
mid-run, a server killed with SIGKILL or stopped with SIGTERM.
"""

import asyncio

import pytest

from golden_path.client import GoldenPathSocket
from golden_path.protocol import AgentErrorCode, CloseCode, EventType, RunStatus
from golden_path.testing.v1.contract import assert_events

pytestmark = [
    pytest.mark.reference_only,
    pytest.mark.golden_path,
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="enterprise",
        goal="retention",
        value_impact="Answers are never lost or doubled when sockets drop, servers "
        "crash or deploys restart them",
        revenue_impact="Enterprise customers run the product across many server "
        "processes; lost or repeated answers break their trust and their SLAs",
    ),
]

WORKLOAD = "We run gpt-4o at 2M tokens/day. Optimize our costs."


def seqs(sock: GoldenPathSocket) -> list[int]:
    return [e["seq"] for e in sock.events()]


@pytest.mark.tier("enterprise")
async def test_a_second_server_process_delivers_the_same_events_live(
    gp_user, gp_client, gp_server_process
):
    user = await gp_user("enterprise")
    node = gp_server_process()
    here = await gp_client(user)
    there = await GoldenPathSocket.connect(node.ws_url, user.access_token)
    try:
        run = await here.ask(WORKLOAD)
        terminal = await there.wait_for(
            lambda f: f.get("request_id") == run.request_id and f.get("type") == "agent_completed",
            what="the run's events on the other node",
        )
        relayed = [e for e in there.events() if e["request_id"] == run.request_id]
        assert [e["event_id"] for e in relayed] == [e["event_id"] for e in run.events]
        assert terminal["seq"] == run.events[-1]["seq"]
    finally:
        await there.close()


@pytest.mark.tier("enterprise")
async def test_runs_written_by_two_processes_share_one_gapless_sequence(
    gp_user, gp_client, gp_api, gp_server_process
):
    user = await gp_user("enterprise")
    node = gp_server_process()
    here = await gp_client(user)
    there = await GoldenPathSocket.connect(node.ws_url, user.access_token)
    try:
        handles = []
        for sock in (here, there, here, there, here, there):
            handles.append(await sock.send_message(WORKLOAD))
        await asyncio.gather(*(h.wait() for h in handles))
        stream = (await gp_api.events(user.access_token))["events"]
        assert_events(stream, first_seq=1)
        everything = list(range(1, stream[-1]["seq"] + 1))
        for sock in (here, there):
            await sock.wait_for(lambda f: f.get("seq") == everything[-1], what="the last event")
            assert sorted(seqs(sock)) == everything
            assert len(seqs(sock)) == len(set(seqs(sock)))
    finally:
        await there.close()


async def test_a_run_outlives_its_dropped_socket_and_resume_delivers_the_rest_once(
    gp_user, gp_api, gp_server_process
):
    user = await gp_user("mid")
    node = gp_server_process(agent_step_delay_ms=60)
    sock = await GoldenPathSocket.connect(node.ws_url, user.access_token)
    handle = await sock.send_message(WORKLOAD)
    await handle.first(EventType.AGENT_STARTED)
    seen = seqs(sock)
    await sock.drop()
    again = await GoldenPathSocket.connect(node.ws_url, user.access_token)
    try:
        await again.resume(max(seen))
        final = await again.wait_for(
            lambda f: (
                f.get("request_id") == handle.request_id and f.get("type") == "agent_completed"
            ),
            what="the run's end after the reconnect",
        )
        # The resume sends every event after what the client saw, in order (starting at the
        # last occurrence of the first one: one may have raced the resume, live).
        after_drop = seqs(again)
        first = max(seen) + 1
        start = len(after_drop) - 1 - after_drop[::-1].index(first)
        assert seen + after_drop[start:] == list(range(1, final["seq"] + 1))
        stored = await gp_api.run(user.access_token, final["run_id"])
        assert stored["status"] == RunStatus.SUCCEEDED
    finally:
        await again.close()


async def test_a_killed_servers_runs_end_interrupted_when_a_server_starts_again(
    gp_user, gp_api, gp_server_process
):
    user = await gp_user("early")
    doomed = gp_server_process(agent_step_delay_ms=2000)
    sock = await GoldenPathSocket.connect(doomed.ws_url, user.access_token)
    handle = await sock.send_message(WORKLOAD)
    started = await handle.first(EventType.AGENT_STARTED)
    doomed.kill()
    await sock.wait_closed()
    assert (await gp_api.run(user.access_token, started["run_id"]))["status"] == RunStatus.RUNNING

    gp_server_process()  # a new node starts, finds the dead node's run, ends it

    run = await gp_api.run(user.access_token, started["run_id"])
    assert run["status"] == RunStatus.INTERRUPTED
    last = run["events"][-1]
    assert last["type"] == EventType.AGENT_ERROR
    assert last["code"] == AgentErrorCode.INTERRUPTED
    assert last["retryable"] is True
    assert_events(run["events"], first_seq=1)


async def test_sigterm_lets_a_run_in_flight_finish_then_closes_sockets_with_1001(
    gp_user, gp_server_process
):
    user = await gp_user("early")
    node = gp_server_process(agent_step_delay_ms=80)
    sock = await GoldenPathSocket.connect(node.ws_url, user.access_token)
    handle = await sock.send_message(WORKLOAD)
    await handle.first(EventType.AGENT_STARTED)
    node.terminate()
    events = await handle.wait(timeout=30)
    assert events[-1]["type"] == EventType.AGENT_COMPLETED
    assert await sock.wait_closed(timeout=30) == CloseCode.GOING_AWAY
    assert node.wait() == 0
