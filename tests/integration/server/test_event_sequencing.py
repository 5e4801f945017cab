"""Per-user event numbering under concurrency: ``seq`` rises by exactly one per persisted event.

``events.append`` takes the next number from ``users.last_seq`` under the user's
row lock, inside the caller's transaction: concurrent writers queue, a rolled
back append gives its number back, and a higher number is never committed
before a lower one.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import pytest

from golden_path.db import events, runs, users
from golden_path.db.pool import create_pool
from golden_path.ids import EventID, UserID
from golden_path.services.model import Services
from tests.integration.server.conftest import NewUser, create_run

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="every client can resume its stream by seq without missing or repeating "
        "an event, whichever node or connection wrote it",
        revenue_impact="a gap or duplicate in the stream shows customers a broken or repeated "
        "answer, the first thing that makes them stop trusting the agent",
    ),
]


def _event(run: runs.Run, n: int = 0) -> dict[str, Any]:
    return {
        "type": "agent_thinking",
        "event_id": str(EventID.new()),
        "user_id": str(run.user_id),
        "thread_id": str(run.thread_id),
        "run_id": str(run.id),
        "reasoning": f"step {n}",
        "step": n,
    }


async def _append(pool: asyncpg.Pool, run: runs.Run, n: int = 0) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return await events.append(conn, run.user_id, run.id, _event(run, n))


async def _seqs(pool: asyncpg.Pool, user_id: UserID) -> list[int]:
    async with pool.acquire() as conn:
        return [e["seq"] for e in await events.after(conn, user_id, 0)]


async def _run_for(pool: asyncpg.Pool, user: users.User) -> runs.Run:
    async with pool.acquire() as conn:
        return await create_run(conn, user.id)


@pytest.mark.parametrize("count", [10, 50])
async def test_concurrent_appends_for_one_user_number_one_to_n(
    pool: asyncpg.Pool, user: users.User, count: int
) -> None:
    run = await _run_for(pool, user)
    stored = await asyncio.wait_for(
        asyncio.gather(*(_append(pool, run, n) for n in range(count))), 30
    )
    assert sorted(e["seq"] for e in stored) == list(range(1, count + 1))
    assert await _seqs(pool, user.id) == list(range(1, count + 1))
    async with pool.acquire() as conn:
        assert await users.last_seq(conn, user.id) == count
        persisted = await events.for_run(conn, user.id, run.id)
    # What each append returned is exactly what was persisted under that seq.
    assert {e["seq"]: e for e in stored} == {e["seq"]: e for e in persisted}


async def test_concurrent_appends_from_several_runs_of_one_user(
    pool: asyncpg.Pool, user: users.User
) -> None:
    runs_ = [await _run_for(pool, user) for _ in range(3)]
    await asyncio.wait_for(asyncio.gather(*(_append(pool, runs_[n % 3], n) for n in range(30))), 30)
    assert await _seqs(pool, user.id) == list(range(1, 31))
    async with pool.acquire() as conn:
        per_run = [len(await events.for_run(conn, user.id, r.id)) for r in runs_]
    assert per_run == [10, 10, 10]


@pytest.mark.parametrize("users_count", [2, 4])
async def test_interleaved_users_keep_independent_sequences(
    pool: asyncpg.Pool, new_user: NewUser, users_count: int
) -> None:
    people = [await new_user() for _ in range(users_count)]
    their_runs = [await _run_for(pool, p) for p in people]
    rng = random.Random(users_count)
    plan = [rng.randrange(users_count) for _ in range(60)]
    await asyncio.wait_for(
        asyncio.gather(*(_append(pool, their_runs[i], n) for n, i in enumerate(plan))), 30
    )
    for index, person in enumerate(people):
        expected = plan.count(index)
        assert await _seqs(pool, person.id) == list(range(1, expected + 1))


async def test_a_rolled_back_append_leaves_no_gap(pool: asyncpg.Pool, user: users.User) -> None:
    run = await _run_for(pool, user)
    await _append(pool, run)
    await _append(pool, run)

    class Abandon(Exception):
        pass

    numbered: list[dict[str, Any]] = []

    async def append_then_abandon(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            numbered.append(await events.append(conn, user.id, run.id, _event(run)))
            raise Abandon

    async with pool.acquire() as conn:
        with pytest.raises(Abandon):
            await append_then_abandon(conn)
        assert await users.last_seq(conn, user.id) == 2
    [doomed] = numbered
    assert doomed["seq"] == 3  # numbered, but never committed

    following = await _append(pool, run)
    assert following["seq"] == 3
    assert following["event_id"] != doomed["event_id"]
    assert await _seqs(pool, user.id) == [1, 2, 3]
    async with pool.acquire() as conn:
        stored_ids = {e["event_id"] for e in await events.after(conn, user.id, 0)}
    assert doomed["event_id"] not in stored_ids


async def test_rollbacks_among_concurrent_appends_leave_no_gap(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)

    class Abandon(Exception):
        pass

    async def append_then_maybe_abandon(n: int) -> bool:
        try:
            async with pool.acquire() as conn, conn.transaction():
                await events.append(conn, user.id, run.id, _event(run, n))
                if n % 3 == 0:
                    raise Abandon
        except Abandon:
            return False
        return True

    committed = await asyncio.wait_for(
        asyncio.gather(*(append_then_maybe_abandon(n) for n in range(30))), 30
    )
    assert committed.count(True) == 20
    assert await _seqs(pool, user.id) == list(range(1, 21))


async def test_a_pending_append_makes_the_next_one_wait_for_its_commit(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)
    async with pool.acquire() as first, pool.acquire() as second:
        async with first.transaction():
            held = await events.append(first, user.id, run.id, _event(run))
            assert held["seq"] == 1
            # Another writer cannot take a number while the first one is uncommitted ...
            async with second.transaction():
                await second.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await events.append(second, user.id, run.id, _event(run))
            # ... and readers do not see the uncommitted event.
            assert await events.after(second, user.id, 0) == []
        async with second.transaction():
            assert (await events.append(second, user.id, run.id, _event(run)))["seq"] == 2
    assert await _seqs(pool, user.id) == [1, 2]


async def test_a_waiting_append_gets_the_number_after_the_committed_one(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)
    async with pool.acquire() as first, pool.acquire() as second, pool.acquire() as observer:
        tx = first.transaction()
        await tx.start()
        try:
            assert (await events.append(first, user.id, run.id, _event(run)))["seq"] == 1

            async def append_on_second() -> dict[str, Any]:
                async with second.transaction():
                    return await events.append(second, user.id, run.id, _event(run))

            waiting = asyncio.ensure_future(append_on_second())

            async def blocked_by_first() -> None:
                # PostgreSQL itself says the second writer waits for the first one's lock.
                while first.get_server_pid() not in await observer.fetchval(
                    "SELECT pg_blocking_pids($1)", second.get_server_pid()
                ):
                    assert not waiting.done(), "the second append did not wait"

            await asyncio.wait_for(blocked_by_first(), 10)
        finally:
            await tx.commit()
        assert (await asyncio.wait_for(waiting, 10))["seq"] == 2
    assert await _seqs(pool, user.id) == [1, 2]


async def test_sequences_survive_a_new_pool(
    gp_services: Services, pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)
    for n in range(3):
        await _append(pool, run, n)
    other = await create_pool(gp_services.postgres_dsn, size=2)
    try:
        async with other.acquire() as conn, conn.transaction():
            stored = await events.append(conn, user.id, run.id, _event(run))
    finally:
        await other.close()
    assert stored["seq"] == 4
    assert await _seqs(pool, user.id) == [1, 2, 3, 4]


async def test_a_batch_takes_the_next_numbers_in_its_order_each_stored_with_its_own(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)
    await _append(pool, run, 0)
    batch = [(run.id, _event(run, n)) for n in range(1, 6)]
    async with pool.acquire() as conn, conn.transaction():
        assert await events.append_many(conn, user.id, batch) == [2, 3, 4, 5, 6]
        assert await events.append_many(conn, user.id, []) == []
    async with pool.acquire() as conn:
        stored = await events.after(conn, user.id, 1)
        assert await users.last_seq(conn, user.id) == 6
    assert [(e["seq"], e["step"]) for e in stored] == [(n + 1, n) for n in range(1, 6)]
    assert [e["event_id"] for e in stored] == [event["event_id"] for _, event in batch]


async def test_batches_and_single_appends_side_by_side_leave_no_gap(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)

    async def batch_of(size: int) -> list[int]:
        async with pool.acquire() as conn, conn.transaction():
            return await events.append_many(
                conn, user.id, [(run.id, _event(run, n)) for n in range(size)]
            )

    results = await asyncio.wait_for(
        asyncio.gather(*(batch_of(7) for _ in range(4)), *(_append(pool, run) for _ in range(5))),
        30,
    )
    for numbers in results[:4]:
        assert isinstance(numbers, list)
        assert numbers == list(range(numbers[0], numbers[0] + 7))  # a batch is contiguous
    assert await _seqs(pool, user.id) == list(range(1, 4 * 7 + 5 + 1))


async def test_a_batch_for_an_unknown_user_stores_nothing(
    pool: asyncpg.Pool, user: users.User
) -> None:
    run = await _run_for(pool, user)
    async with pool.acquire() as conn:
        with pytest.raises(LookupError):
            await events.append_many(conn, UserID.new(), [(run.id, _event(run))])
    assert await _seqs(pool, user.id) == []
