"""The database boundary maps the driver's errors once: an outage is ``DatabaseUnavailable``.

Everything above ``Database`` (the run service, the socket, the HTTP API) catches
that one type; an integrity violation is an answer and passes through untouched,
and so does any error of the caller's own.
"""

from __future__ import annotations

import asyncpg
import pytest

from golden_path.db.errors import DatabaseUnavailable
from golden_path.db.scope import Database
from golden_path.errors import GoldenPathError, Unavailable
from golden_path.services.model import Services

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a PostgreSQL outage reaches every caller as one retryable 'unavailable' "
        "with nothing half-written, never as a driver exception some path forgot to catch",
        revenue_impact="an outage that surfaces as a 500 or a dropped socket on one forgotten "
        "path turns a blip into lost answers and support tickets",
    ),
]


async def test_a_refused_connection_is_database_unavailable() -> None:
    # A real pool whose server went away: the driver's error becomes the boundary's.
    pool = await asyncpg.create_pool("postgresql://nobody@127.0.0.1:1/none", min_size=0)
    db = Database(pool)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with db.as_system() as conn:
                await conn.fetchval("SELECT 1")
    finally:
        await pool.close()
    assert isinstance(caught.value, Unavailable)
    assert isinstance(caught.value, GoldenPathError)
    assert caught.value.what == "the database"
    assert isinstance(caught.value.__cause__, OSError)


async def _cancelled_by_the_server(db: Database) -> None:
    async with db.as_system() as conn:
        # PostgreSQL itself cancels the statement: an error of the server's own (SQLSTATE
        # 57014, asyncpg.QueryCanceledError), not a timeout of the client's.
        await conn.execute("SET LOCAL statement_timeout = '10ms'")
        await conn.execute("SELECT pg_sleep(5)")


async def test_a_server_error_inside_the_transaction_is_database_unavailable(
    gp_services: Services,
) -> None:
    db = await Database.open(gp_services.postgres_dsn, 2)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await _cancelled_by_the_server(db)
        assert isinstance(caught.value.__cause__, asyncpg.QueryCanceledError)
        assert isinstance(caught.value.__cause__, asyncpg.PostgresError)
        # The connection went back to the pool: the next transaction works.
        async with db.as_system() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await db.close()


async def test_a_client_timeout_inside_the_transaction_is_database_unavailable(
    gp_services: Services,
) -> None:
    db = await Database.open(gp_services.postgres_dsn, 2)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with db.as_system() as conn:
                await conn.execute("SELECT pg_sleep(1)", timeout=0.01)
        assert isinstance(caught.value.__cause__, TimeoutError)
        async with db.as_system() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await db.close()


async def test_an_integrity_violation_is_an_answer_not_an_outage(gp_services: Services) -> None:
    db = await Database.open(gp_services.postgres_dsn, 2)
    try:

        async def insert_twice() -> None:
            async with db.as_system() as conn:
                await conn.execute("CREATE TEMP TABLE once (k int PRIMARY KEY)")
                await conn.execute("INSERT INTO once VALUES (1), (1)")

        with pytest.raises(asyncpg.UniqueViolationError):
            await insert_twice()
    finally:
        await db.close()


async def test_the_callers_own_error_passes_through_and_rolls_back(
    gp_services: Services,
) -> None:
    class Refused(Exception):
        pass

    db = await Database.open(gp_services.postgres_dsn, 1)
    try:

        async def refuse_midway() -> None:
            async with db.as_system() as conn:
                await conn.execute("SET LOCAL application_name = 'was-here'")
                raise Refused

        with pytest.raises(Refused):
            await refuse_midway()
        async with db.as_system() as conn:
            assert await conn.fetchval("SHOW application_name") != "was-here"
    finally:
        await db.close()


async def test_closing_with_a_connection_never_given_back_terminates_in_time(
    gp_services: Services,
) -> None:
    """A graceful pool close waits for every borrowed connection; one that is never
    returned (a task stuck on a dead network) must not hang the server's shutdown."""
    db = await Database.open(gp_services.postgres_dsn, 2)
    await db.pool.acquire()  # borrowed, and never given back
    await db.close(timeout_s=0.5)  # without the bound, this waits for ever
    assert db.pool.is_closing()
