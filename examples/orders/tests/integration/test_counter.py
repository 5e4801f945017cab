"""The orders-placed counter in real Redis, on a Redis database this worker owns (gp_redis)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from orders.counter import count_order, key, orders_placed

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="expansion",
        value_impact="each customer's order count is exact, even when orders arrive at once",
        revenue_impact="the count decides loyalty rewards; a lost increment is a lost reward",
    ),
]


async def test_a_customer_with_no_orders_has_none(gp_redis: aioredis.Redis) -> None:
    assert await orders_placed(gp_redis, "nobody") == 0


async def test_each_order_counts_once_per_customer(gp_redis: aioredis.Redis) -> None:
    assert [await count_order(gp_redis, "ann") for _ in range(3)] == [1, 2, 3]
    assert await count_order(gp_redis, "bob") == 1
    assert await orders_placed(gp_redis, "ann") == 3
    assert await gp_redis.get(key("ann")) == b"3"


async def test_concurrent_orders_lose_no_count(gp_redis: aioredis.Redis) -> None:
    counts = await asyncio.gather(*(count_order(gp_redis, "busy") for _ in range(50)))
    assert sorted(counts) == list(range(1, 51))
    assert await orders_placed(gp_redis, "busy") == 50
