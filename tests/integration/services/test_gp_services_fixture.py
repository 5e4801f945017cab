"""The ``gp_services`` fixture: this worker's own database, cloned from the schema template."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from golden_path.db.migrate import available_migrations
from golden_path.services.model import Services

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every test worker gets a migrated database and a Redis namespace of its "
        "own, so parallel tests never see each other's rows",
        revenue_impact="flaky, order-dependent persistence tests would let data bugs reach "
        "customers' threads and usage records",
    ),
]

SCHEMA_TABLES = {"users", "threads", "runs", "events", "messages", "usage_ledger"}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database(services: Services) -> str:
    return urlsplit(services.postgres_dsn).path.lstrip("/")


def test_database_is_this_workers_own(gp_services: Services) -> None:
    database = _database(gp_services)
    assert database.startswith("gp_")
    assert database.endswith(f"_{_worker()}")


def test_redis_namespace_names_this_worker(gp_services: Services) -> None:
    assert gp_services.redis_namespace.startswith("gp:")
    assert f":{_worker()}:" in gp_services.redis_namespace
    assert gp_services.redis_key("k") == f"{gp_services.redis_namespace}k"


async def test_schema_template_tables_exist(gp_services: Services) -> None:
    conn = await asyncpg.connect(gp_services.postgres_dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        database = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()
    assert {r["table_name"] for r in rows} >= SCHEMA_TABLES | {"schema_migrations"}
    assert [r["version"] for r in versions] == [m.version for m in available_migrations()]
    assert database == _database(gp_services)


async def test_versions_are_reported(gp_services: Services) -> None:
    conn = await asyncpg.connect(gp_services.postgres_dsn)
    try:
        assert gp_services.postgres_version == await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    assert gp_services.redis_version


async def test_redis_key_round_trips_inside_the_namespace(gp_services: Services) -> None:
    client = aioredis.Redis.from_url(gp_services.redis_url)
    key = gp_services.redis_key("fixture-check")
    try:
        await client.set(key, b"1")
        assert await client.get(key) == b"1"
        assert await client.keys(gp_services.redis_key("fixture-*")) == [key.encode()]
    finally:
        await client.delete(key)
        await client.aclose()


def test_fixture_is_marked_real_services(
    request: pytest.FixtureRequest, gp_services: Services
) -> None:
    assert request.node.get_closest_marker("real_services") is not None
    assert request.node.get_closest_marker("integration") is not None
