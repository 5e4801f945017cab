"""Tenant-scoped transactions (``golden_path.db.scope.Database``) on real PostgreSQL.

Every server query runs in ``Database.as_user(user_id)``: a pooled connection,
a transaction, row-level security set to one tenant. Whatever happens inside,
the transaction must end (commit on success, roll back otherwise) and the
connection must go back to the pool, or the server runs out of connections.
Run cancellation (a user pressing stop, a run timeout, shutdown) arrives as
``CancelledError`` at whatever the run is awaiting, including a COMMIT.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import pytest

from golden_path.db import threads, users
from golden_path.db.pool import create_pool
from golden_path.db.scope import APP_ROLE, Database, usable_app_role
from golden_path.services.model import Services
from tests.integration.server.conftest import WAIT_S, NewUser

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every query of a run ends its transaction and returns its connection, "
        "even when the user cancels or the run times out mid-query",
        revenue_impact="a connection lost per cancelled run drains the pool until every "
        "customer's messages hang; an open transaction also blocks vacuum",
    ),
]


async def _close_or_fail(pool: asyncpg.Pool) -> None:
    """Close the pool; it only closes once every borrowed connection came back."""
    try:
        await asyncio.wait_for(pool.close(), WAIT_S)
    except TimeoutError:
        pool.terminate()
        raise AssertionError(
            "pool.close() waited in vain: a connection borrowed by Database.as_user "
            "was never given back"
        ) from None


@pytest.fixture
async def one_connection_db(gp_services: Services) -> AsyncIterator[tuple[Database, int]]:
    """A Database over a pool of exactly one connection, and that connection's backend pid.

    The connection carries a session-local commit gate: a row inserted into
    ``pg_temp.commit_gate`` makes COMMIT wait for the advisory lock named by the row.
    """
    pool = await create_pool(gp_services.postgres_dsn, size=1)
    closed = False
    try:
        async with pool.acquire() as conn:
            pid = conn.get_server_pid()
            await conn.execute(
                "CREATE TEMP TABLE commit_gate (lock_key bigint NOT NULL);"
                "CREATE FUNCTION pg_temp.wait_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_advisory_xact_lock(NEW.lock_key); RETURN NULL; END $$;"
                "CREATE CONSTRAINT TRIGGER wait_at_commit AFTER INSERT ON pg_temp.commit_gate "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION pg_temp.wait_at_commit();"
            )
        # No application role: the gate lives in this session's temp schema (the owner's).
        yield Database(pool, app_role=None), pid
        # A leak is the tests' to report; here the pool only has to go away.
        try:
            await asyncio.wait_for(pool.close(), WAIT_S)
            closed = True
        except TimeoutError:
            pass
    finally:
        if not closed:
            pool.terminate()


@pytest.fixture
async def observer(gp_services: Services) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(gp_services.postgres_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def _wait_until_blocked(observer: asyncpg.Connection, pid: int, by: int) -> None:
    """Return once PostgreSQL reports backend ``pid`` waiting for a lock ``by`` holds."""

    async def blocked() -> None:
        while by not in await observer.fetchval("SELECT pg_blocking_pids($1)", pid):
            pass

    await asyncio.wait_for(blocked(), WAIT_S)


def _lock_key() -> int:
    return random.randrange(1, 2**62)


async def test_as_user_commits_and_gives_the_connection_back(
    gp_services: Services, new_user: NewUser
) -> None:
    user = await new_user()
    db = await Database.open(gp_services.postgres_dsn, 2)
    try:
        async with db.as_user(user.id) as conn:
            made = await threads.create(conn, user.id, "committed")
            assert conn.is_in_transaction()
        async with db.as_user(user.id) as conn:
            assert (await threads.get(conn, user.id, made.id)) is not None
    finally:
        await _close_or_fail(db.pool)


async def test_as_user_rolls_back_on_error_and_gives_the_connection_back(
    gp_services: Services, new_user: NewUser
) -> None:
    user = await new_user()
    db = await Database.open(gp_services.postgres_dsn, 2)

    class Boom(Exception):
        pass

    made: list[threads.Thread] = []

    async def create_then_fail() -> None:
        async with db.as_user(user.id) as conn:
            made.append(await threads.create(conn, user.id, "rolled back"))
            raise Boom

    try:
        with pytest.raises(Boom):
            await create_then_fail()
        async with db.as_user(user.id) as conn:
            assert await threads.get(conn, user.id, made[0].id) is None
    finally:
        await _close_or_fail(db.pool)


async def test_as_user_sees_only_that_users_rows(
    gp_services: Services, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    alice, bob = await new_user(), await new_user()
    async with pool.acquire() as conn:
        await threads.create(conn, alice.id, "alice's")
        await threads.create(conn, bob.id, "bob's")
        assert await usable_app_role(conn) == APP_ROLE
    db = await Database.open(gp_services.postgres_dsn, 2)
    try:
        assert db.app_role == APP_ROLE
        async with db.as_user(alice.id) as conn:
            # No user filter at all: the policy alone hides bob's rows.
            titles = [r["title"] for r in await conn.fetch("SELECT title FROM threads")]
            assert await conn.fetchval("SELECT count(*) FROM users") == 1
        async with db.as_system() as conn:
            seen = await conn.fetchval(
                "SELECT count(*) FROM users WHERE id = ANY($1::text[])", [alice.id, bob.id]
            )
            assert (await users.by_email(conn, bob.email)).id == bob.id
    finally:
        await _close_or_fail(db.pool)
    assert titles == ["alice's"]
    assert seen == 2


async def test_a_cancel_during_a_query_rolls_back_and_gives_the_connection_back(
    one_connection_db: tuple[Database, int],
    observer: asyncpg.Connection,
    new_user: NewUser,
) -> None:
    db, pid = one_connection_db
    user = await new_user()
    key = _lock_key()
    await observer.execute("SELECT pg_advisory_lock($1)", key)
    try:

        async def run() -> None:
            async with db.as_user(user.id) as conn:
                await threads.create(conn, user.id, "never committed")
                await conn.execute("SELECT pg_advisory_xact_lock($1)", key)  # waits

        task = asyncio.ensure_future(run())
        await _wait_until_blocked(observer, pid, observer.get_server_pid())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, WAIT_S)
    finally:
        await observer.execute("SELECT pg_advisory_unlock($1)", key)
    # The single connection is back: the next transaction gets it, and nothing was kept.
    async with db.as_user(user.id) as conn:
        assert await threads.page(conn, user.id, archived=False, limit=5, after=None) == []


async def test_a_cancel_during_commit_gives_the_connection_back(
    one_connection_db: tuple[Database, int],
    observer: asyncpg.Connection,
    new_user: NewUser,
) -> None:
    """A run cancelled (or timed out) while its COMMIT is in flight must end cancelled
    and must not keep its connection.

    COMMIT is made to wait, deterministically, on an advisory lock the observer
    holds (a deferred constraint trigger takes it at commit time); the task is
    cancelled while PostgreSQL reports it waiting there. Whether that COMMIT
    lands is PostgreSQL's business; the task must end with ``CancelledError``
    (not another error in its place) and the pool's only connection must come back.
    """
    db, pid = one_connection_db
    user = await new_user()
    key = _lock_key()
    await observer.execute("SELECT pg_advisory_lock($1)", key)
    try:

        async def run() -> None:
            async with db.as_user(user.id) as conn:
                await threads.create(conn, user.id, "cancelled at commit")
                await conn.execute("INSERT INTO pg_temp.commit_gate VALUES ($1)", key)
            # Leaving the block commits: the deferred trigger now waits for the lock.

        task = asyncio.ensure_future(run())
        await _wait_until_blocked(observer, pid, observer.get_server_pid())
        task.cancel()
        [outcome] = await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), WAIT_S)
    finally:
        await observer.execute("SELECT pg_advisory_unlock($1)", key)

    async def next_transaction() -> int:
        async with db.as_user(user.id) as conn:
            return len(await threads.page(conn, user.id, archived=False, limit=5, after=None))

    try:
        kept = await asyncio.wait_for(next_transaction(), WAIT_S)
    except TimeoutError:
        raise AssertionError(
            "the pool's only connection never came back after a cancel during COMMIT "
            f"(the cancelled task ended with {outcome!r})"
        ) from None
    assert isinstance(outcome, asyncio.CancelledError), (
        f"a cancel during COMMIT ended the task with {outcome!r} instead of CancelledError"
    )
    assert kept in (0, 1)  # committed or rolled back, never half-done


async def test_many_cancelled_transactions_leave_the_pool_whole(
    gp_services: Services, observer: asyncpg.Connection, new_user: NewUser
) -> None:
    user = await new_user()
    db = await Database.open(gp_services.postgres_dsn, 3)
    key = _lock_key()
    await observer.execute("SELECT pg_advisory_lock($1)", key)
    try:

        async def run() -> None:
            async with db.as_user(user.id) as conn:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", key)

        tasks = [asyncio.ensure_future(run()) for _ in range(6)]

        async def three_waiting() -> None:
            while (
                await observer.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND objid = ($1::bigint & 4294967295)::oid",
                    key,
                )
                < 3
            ):
                pass

        await asyncio.wait_for(three_waiting(), WAIT_S)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    finally:
        await observer.execute("SELECT pg_advisory_unlock($1)", key)
    async with db.as_user(user.id) as conn:
        assert await conn.fetchval("SELECT 1") == 1
    await _close_or_fail(db.pool)
