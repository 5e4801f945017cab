"""How many orders each customer placed: a Redis counter per customer."""

from __future__ import annotations

import redis.asyncio as aioredis

PREFIX = "orders:placed:"


def key(subject: str) -> str:
    return PREFIX + subject


async def count_order(client: aioredis.Redis, subject: str) -> int:
    """Count one more order for ``subject``; the new count."""
    return int(await client.incr(key(subject)))


async def orders_placed(client: aioredis.Redis, subject: str) -> int:
    value = await client.get(key(subject))
    return int(value) if value is not None else 0
