"""Check that a pair of servers really answers, and read their versions."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import redis.asyncio as aioredis

from golden_path.services.model import Services, ServicesError, redact

PROBE_TIMEOUT_S = 10.0


async def _versions(services: Services) -> tuple[str, str]:
    try:
        conn = await asyncpg.connect(services.postgres_dsn, timeout=PROBE_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise ServicesError(
            f"{services.provider} provider: PostgreSQL at {redact(services.postgres_dsn)} "
            f"does not answer: {exc}"
        ) from exc
    try:
        pg_version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(services.redis_url, socket_timeout=PROBE_TIMEOUT_S)
    try:
        info = await client.info("server")
    except (OSError, aioredis.RedisError) as exc:
        raise ServicesError(
            f"{services.provider} provider: Redis at {redact(services.redis_url)} "
            f"does not answer: {exc}"
        ) from exc
    finally:
        await client.aclose()
    return pg_version, str(info.get("redis_version", ""))


def probe_services(services: Services) -> Services:
    """``services`` with versions filled in; ``ServicesError`` if either server is silent."""
    pg_version, redis_version = asyncio.run(_versions(services))
    return replace(services, postgres_version=pg_version, redis_version=redis_version)
