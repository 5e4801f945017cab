"""Schema migrations on real PostgreSQL: applied once each, recorded, safe for concurrent starts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from golden_path.db import migrate as migrate_module
from golden_path.db.migrate import (
    MigrationBlocked,
    applied_versions,
    available_migrations,
    migrate,
    migrate_dsn,
)
from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every server start brings the database to the shipped schema exactly once, "
        "even when several nodes start together, so no deploy half-applies a migration",
        revenue_impact="a migration applied twice or not at all takes the product down for "
        "every paying customer at deploy time",
    ),
]

SCHEMA_TABLES = {"users", "threads", "runs", "messages", "events", "usage_ledger"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
async def fresh_dsn(gp_services: Services) -> AsyncIterator[str]:
    """The DSN of a brand-new, empty database on the same server, dropped afterwards."""
    admin_dsn = dsn_with_database(gp_services.postgres_dsn, "postgres")
    name = f"gp_migtest_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {_quote(name)}")
    finally:
        await admin.close()
    try:
        yield dsn_with_database(gp_services.postgres_dsn, name)
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        finally:
            await admin.close()


async def _tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    return {r["table_name"] for r in rows}


async def _recorded(dsn: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    return [(int(r["version"]), r["name"]) for r in rows]


async def test_available_migrations_are_ordered_unique_and_match_the_database(
    gp_services: Services,
) -> None:
    found = available_migrations()
    versions = [m.version for m in found]
    assert found, "the package ships no migration"
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert all(m.version >= 1 and m.name and m.sql.strip() for m in found)
    assert await _recorded(gp_services.postgres_dsn) == [(m.version, m.name) for m in found]


async def test_first_migration_creates_the_protocol_tables(gp_services: Services) -> None:
    first = available_migrations()[0]
    assert first.version == 1
    for table in SCHEMA_TABLES:
        assert f"CREATE TABLE {table}" in first.sql
    assert await _tables(gp_services.postgres_dsn) >= SCHEMA_TABLES | {"schema_migrations"}


async def test_a_brand_new_database_has_nothing_applied(fresh_dsn: str) -> None:
    conn = await asyncpg.connect(fresh_dsn)
    try:
        assert await applied_versions(conn) == []
    finally:
        await conn.close()
    assert await _tables(fresh_dsn) == set()


async def test_migrate_applies_every_migration_once_and_records_it(fresh_dsn: str) -> None:
    expected = [(m.version, m.name) for m in available_migrations()]
    conn = await asyncpg.connect(fresh_dsn)
    try:
        applied = await migrate(conn)
        assert applied == [v for v, _ in expected]
        assert await applied_versions(conn) == [v for v, _ in expected]
    finally:
        await conn.close()
    assert await _recorded(fresh_dsn) == expected
    assert await _tables(fresh_dsn) >= SCHEMA_TABLES | {"schema_migrations"}


async def test_migrate_again_applies_nothing_and_keeps_the_records(fresh_dsn: str) -> None:
    first = await migrate_dsn(fresh_dsn)
    before = await _recorded(fresh_dsn)
    second = await migrate_dsn(fresh_dsn)
    third = await migrate_dsn(fresh_dsn)
    assert first == [m.version for m in available_migrations()]
    assert second == []
    assert third == []
    assert await _recorded(fresh_dsn) == before


async def test_migrate_keeps_data_already_in_the_schema(fresh_dsn: str) -> None:
    await migrate_dsn(fresh_dsn)
    conn = await asyncpg.connect(fresh_dsn)
    try:
        await conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')",
            "usr_" + uuid.uuid4().hex,
            "kept@example.test",
        )
        assert await migrate(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM users") == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("starters", [2, 4])
async def test_concurrent_migrations_apply_the_schema_exactly_once(
    fresh_dsn: str, starters: int
) -> None:
    results = await asyncio.wait_for(
        asyncio.gather(*(migrate_dsn(fresh_dsn) for _ in range(starters))), 30
    )
    everything = [m.version for m in available_migrations()]
    # One starter applied everything (holding the advisory lock); the others found it done.
    assert sorted(results, key=len) == [[]] * (starters - 1) + [everything]
    assert [v for v, _ in await _recorded(fresh_dsn)] == everything
    assert await _tables(fresh_dsn) >= SCHEMA_TABLES


async def test_migrate_releases_its_advisory_lock(fresh_dsn: str) -> None:
    conn = await asyncpg.connect(fresh_dsn)
    try:
        await migrate(conn)
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
    finally:
        await conn.close()
    assert held == 0


async def test_the_workers_database_is_fully_migrated(gp_services: Services) -> None:
    conn = await asyncpg.connect(gp_services.postgres_dsn)
    try:
        assert await applied_versions(conn) == [m.version for m in available_migrations()]
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_a_lock_held_elsewhere_fails_the_start_naming_its_holder(
    fresh_dsn: str,
) -> None:
    """A session that holds the migration lock and never lets go (a client on a dead
    network, say) must not hang every later start without a word."""
    holder = await asyncpg.connect(fresh_dsn, server_settings={"application_name": "stuck-one"})
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", migrate_module._LOCK_KEY)
        with pytest.raises(
            MigrationBlocked, match=r"within 1 s; locks are held by: pid \d+ .*stuck-one"
        ):
            await migrate_dsn(fresh_dsn, lock_timeout_s=1)
    finally:
        await holder.close()
    assert await migrate_dsn(fresh_dsn)  # once it is gone, the start goes on
