"""How many orders each customer placed: a Redis counter per customer.

Every key starts with the deployment's ``namespace`` (``ORDERS_REDIS_PREFIX``; under the
golden-path harness, the worker's ``{redis_namespace}``, the only keys its Redis user
may touch).
"""

from __future__ import annotations

import redis.asyncio as aioredis

PREFIX = "orders:placed:"


def key(subject: str, namespace: str = "") -> str:
    return namespace + PREFIX + subject


async def count_order(client: aioredis.Redis, subject: str, namespace: str = "") -> int:
    """Count one more order for ``subject``; the new count."""
    return int(await client.incr(key(subject, namespace)))


async def orders_placed(client: aioredis.Redis, subject: str, namespace: str = "") -> int:
    value = await client.get(key(subject, namespace))
    return int(value) if value is not None else 0
