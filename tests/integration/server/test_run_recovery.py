"""Crash recovery on real PostgreSQL: runs left ``running`` by a node that died end ``interrupted``.

A node proves it is alive by holding an advisory lock named after its node id
(``NodeLease``). At start, ``RunService.interrupt_orphans`` ends every running
run of nodes whose lock is free with a retryable ``agent_error`` ``interrupted``,
written into the user's stream like any other event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from golden_path.db import events, runs, users
from golden_path.protocol import AgentErrorCode, EventType, RunStatus
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.server.runs.recovery import NodeLease, NodeLockHeld, is_node_alive, orphaned_runs
from golden_path.server.runs.service import RunService
from golden_path.server.ws.hub import Hub
from golden_path.services.model import Services
from golden_path.testing.v1.contract import assert_events
from tests.integration.server.conftest import WAIT_S, NewUser, Recorder, create_run

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a run cut short by a crashed or redeployed server ends with a retryable "
        "error instead of spinning forever and holding the user's concurrency slot",
        revenue_impact="a run stuck 'running' blocks a free user's only slot and leaves paid "
        "users waiting on an answer that never comes",
    ),
]


def _node(label: str) -> str:
    return f"node-{label}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def service(
    gp_services: Services, pool: asyncpg.Pool, keys: RedisKeys
) -> AsyncIterator[tuple[RunService, Hub]]:
    client = aioredis.Redis.from_url(gp_services.redis_url)
    node_id = _node("recovering")
    hub = Hub(client, keys, node_id)
    run_service = RunService(pool, hub, MessageRateLimiter(client, keys), node_id, run_timeout_s=30)
    try:
        yield run_service, hub
    finally:
        await run_service.drain(grace_s=WAIT_S)
        await client.aclose()


@pytest.fixture
async def lease(gp_services: Services) -> AsyncIterator[NodeLease]:
    held = NodeLease(gp_services.postgres_dsn, _node("alive"))
    await held.acquire()
    try:
        yield held
    finally:
        await held.release()


async def _status(pool: asyncpg.Pool, user: users.User, run: runs.Run) -> RunStatus:
    async with pool.acquire() as conn:
        found = await runs.get(conn, user.id, run.id)
    assert found is not None
    return found.status


async def test_a_node_without_its_lock_is_dead_and_one_holding_it_is_alive(
    pool: asyncpg.Pool, lease: NodeLease
) -> None:
    async with pool.acquire() as conn:
        assert await is_node_alive(conn, lease.node_id) is True
        assert await is_node_alive(conn, _node("never-started")) is False
        # Asking does not take the lock for good: a dead node stays dead, an alive one alive.
        assert await is_node_alive(conn, lease.node_id) is True
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
    assert held == 0


async def test_a_released_lease_marks_the_node_dead(
    gp_services: Services, pool: asyncpg.Pool
) -> None:
    node = NodeLease(gp_services.postgres_dsn, _node("stopping"))
    await node.acquire()
    async with pool.acquire() as conn:
        assert await is_node_alive(conn, node.node_id)
    await node.release()
    await node.release()  # twice is harmless
    async with pool.acquire() as conn:
        assert not await is_node_alive(conn, node.node_id)


async def test_orphaned_runs_are_those_of_dead_nodes_only(
    pool: asyncpg.Pool, new_user: NewUser, lease: NodeLease
) -> None:
    user = await new_user()
    dead_node = _node("dead")
    async with pool.acquire() as conn:
        orphan = await create_run(conn, user.id, node_id=dead_node)
        alive = await create_run(conn, user.id, node_id=lease.node_id)
        own = await create_run(conn, user.id, node_id="node-self")
        finished = await create_run(conn, user.id, node_id=dead_node)
        await runs.finish(conn, finished.id, status=RunStatus.SUCCEEDED)
        found = set(await orphaned_runs(conn, "node-self"))
    assert orphan.id in found
    assert not found & {alive.id, own.id, finished.id}


async def test_interrupt_orphans_ends_a_dead_nodes_run_in_the_users_stream(
    service: tuple[RunService, Hub], pool: asyncpg.Pool, new_user: NewUser
) -> None:
    run_service, hub = service
    user = await new_user()
    socket = Recorder("user's socket")
    hub.attach(str(user.id), socket)
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, node_id=_node("crashed"))
        # The run had started before its node died.
        started = await events.append(
            conn,
            user.id,
            run.id,
            {
                "type": EventType.AGENT_STARTED.value,
                "event_id": "evt_" + uuid.uuid4().hex,
                "user_id": str(user.id),
                "thread_id": str(run.thread_id),
                "run_id": str(run.id),
                "request_id": str(run.request_id),
                "agent_name": run_service.agent.name,
                "timestamp": "2026-01-01T00:00:00.000Z",
                "message_id": str(run.message_id),
            },
        )

    ended = await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    assert ended >= 1

    terminal = await socket.terminal(run.id)
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.INTERRUPTED.value
    assert terminal["retryable"] is True
    assert terminal["seq"] == started["seq"] + 1
    async with pool.acquire() as conn:
        stream = await events.for_run(conn, user.id, run.id)
        ended_run = await runs.get(conn, user.id, run.id)
    assert [e["type"] for e in stream] == ["agent_started", "agent_error"]
    assert_events(stream, first_seq=1)
    assert ended_run.status is RunStatus.INTERRUPTED
    assert ended_run.error_code == AgentErrorCode.INTERRUPTED.value
    assert ended_run.finished_at is not None


async def test_a_run_that_never_started_ends_with_its_interrupted_error_only(
    service: tuple[RunService, Hub], pool: asyncpg.Pool, new_user: NewUser
) -> None:
    run_service, _ = service
    user = await new_user()
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, node_id=_node("crashed-early"))
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    async with pool.acquire() as conn:
        stream = await events.for_run(conn, user.id, run.id)
    assert [e["type"] for e in stream] == ["agent_error"]
    assert_events(stream, first_seq=1)  # the protocol's one exception to "started first"
    assert await _status(pool, user, run) is RunStatus.INTERRUPTED


async def test_runs_of_live_nodes_and_of_this_node_are_left_alone(
    service: tuple[RunService, Hub], pool: asyncpg.Pool, new_user: NewUser, lease: NodeLease
) -> None:
    run_service, _ = service
    user = await new_user()
    async with pool.acquire() as conn:
        on_live_node = await create_run(conn, user.id, node_id=lease.node_id)
        on_this_node = await create_run(conn, user.id, node_id=run_service._node_id)
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    assert await _status(pool, user, on_live_node) is RunStatus.RUNNING
    assert await _status(pool, user, on_this_node) is RunStatus.RUNNING

    # Once the live node stops, its run is an orphan too.
    await lease.release()
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    assert await _status(pool, user, on_live_node) is RunStatus.INTERRUPTED
    async with pool.acquire() as conn:
        assert await events.for_run(conn, user.id, on_this_node.id) == []


async def test_interrupting_twice_writes_one_error(
    service: tuple[RunService, Hub], pool: asyncpg.Pool, new_user: NewUser
) -> None:
    run_service, _ = service
    user = await new_user()
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, node_id=_node("crashed"))
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    async with pool.acquire() as conn:
        stream = await events.for_run(conn, user.id, run.id)
        last_seq = await users.last_seq(conn, user.id)
    assert [e["type"] for e in stream] == ["agent_error"]
    assert last_seq == 1


async def test_an_interrupted_orphan_frees_the_users_concurrency_slot(
    service: tuple[RunService, Hub], pool: asyncpg.Pool, new_user: NewUser
) -> None:
    run_service, _ = service
    user = await new_user()  # free: one run at a time
    async with pool.acquire() as conn:
        await create_run(conn, user.id, node_id=_node("crashed"))
        assert await runs.count_running(conn, user.id) == 1
    await asyncio.wait_for(run_service.interrupt_orphans(), WAIT_S)
    async with pool.acquire() as conn:
        assert await runs.count_running(conn, user.id) == 0


async def test_a_lease_whose_connection_dies_is_taken_again(
    lease: NodeLease, observer_pool: asyncpg.Pool
) -> None:
    async with observer_pool.acquire() as conn:
        holder = await conn.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = $1 AND objid = hashtext($2)::oid",
            0x60_1D,
            lease.node_id,
        )
        assert holder is not None
        await conn.execute("SELECT pg_terminate_backend($1)", holder)

        async def retaken() -> None:
            while (
                await conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = $1 AND objid = hashtext($2)::oid AND pid <> $3",
                    0x60_1D,
                    lease.node_id,
                    holder,
                )
                == 0
            ):
                pass

        await asyncio.wait_for(retaken(), WAIT_S)
        assert await is_node_alive(conn, lease.node_id)


@pytest.fixture
async def observer_pool(gp_services: Services) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(gp_services.postgres_dsn, min_size=1, max_size=1)
    try:
        yield created
    finally:
        await created.close()


async def test_a_node_id_whose_lock_another_session_keeps_fails_the_start_by_name(
    gp_services: Services, lease: NodeLease
) -> None:
    """Two processes started with one GOLDEN_PATH_NODE_ID: the second must not wait for
    ever (nor share the first's identity); it fails, naming the node and who holds what."""
    twin = NodeLease(gp_services.postgres_dsn, lease.node_id, lock_timeout_s=1)
    with pytest.raises(NodeLockHeld, match=rf"node {lease.node_id}: .* within 1 s .*pid \d+"):
        await twin.acquire()
    await twin.release()  # nothing was held: a no-op


async def test_a_dead_nodes_run_whose_rows_stay_locked_does_not_hold_up_the_start(
    service: tuple[RunService, Hub],
    pool: asyncpg.Pool,
    new_user: NewUser,
    gp_services: Services,
    keys: RedisKeys,
) -> None:
    """A start ends the runs of dead nodes, but one whose rows another session keeps
    locked is skipped after ORPHAN_TIMEOUT_S (and tried again at the next start)."""
    _, hub = service
    client = aioredis.Redis.from_url(gp_services.redis_url)
    run_service = RunService(
        pool,
        hub,
        MessageRateLimiter(client, keys),
        _node("impatient"),
        run_timeout_s=30,
        orphan_timeout_s=1.0,
    )
    user = await new_user()
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, node_id=_node("crashed"))
    async with pool.acquire() as locker, locker.transaction():
        await locker.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", run.id)
        await locker.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user.id)
        await run_service.interrupt_orphans()  # returns: the locked run was skipped
        assert await _status(pool, user, run) is RunStatus.RUNNING
    await run_service.interrupt_orphans()  # the lock gone, the next start ends it
    await client.aclose()
    assert await _status(pool, user, run) is RunStatus.INTERRUPTED
