"""Per-minute message limits and open-socket presence in real Redis, per tier.

Both degrade open when Redis is gone (protocol §9): messages go through, and
each node counts its own sockets.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from golden_path.ids import ConnectionID, UserID
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.server.ws.presence import LEASE_S, Presence
from golden_path.tiers import TIER_LIMITS, TIER_ORDER, Tier

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="all",
        goal="expansion",
        value_impact="each plan gets exactly its messages per minute and open sockets, shared "
        "across nodes, and a Redis outage never blocks a paying user's messages",
        revenue_impact="per-tier limits are what higher plans sell; enforcing them wrongly "
        "either gives paid capacity away or refuses customers who paid for it",
    ),
]

TIERS = pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)


def _minute_start() -> float:
    """The start of the current minute, as the limiter counts minutes."""
    return float(int(time.time() // 60) * 60)


# -- message rate -------------------------------------------------------------------------


@TIERS
async def test_exactly_messages_per_minute_are_allowed(
    redis: aioredis.Redis, keys: RedisKeys, tier: Tier
) -> None:
    limiter = MessageRateLimiter(redis, keys)
    user_id = UserID.new()
    moment = _minute_start() + 15.25
    allowed = TIER_LIMITS[tier].messages_per_minute
    decisions = [await limiter.check(user_id, tier, now=moment) for _ in range(allowed)]
    assert all(d.allowed and d.retry_after_ms == 0 for d in decisions)
    refused = await limiter.check(user_id, tier, now=moment)
    assert not refused.allowed
    assert 0 < refused.retry_after_ms <= 60_000
    assert refused.retry_after_ms == 44_750  # until the next minute starts
    # Still refused for the rest of the minute, with a shorter wait.
    later = await limiter.check(user_id, tier, now=moment + 40)
    assert not later.allowed
    assert later.retry_after_ms == 4_750


@TIERS
async def test_the_window_is_per_minute(redis: aioredis.Redis, keys: RedisKeys, tier: Tier) -> None:
    limiter = MessageRateLimiter(redis, keys)
    user_id = UserID.new()
    start = _minute_start()
    allowed = TIER_LIMITS[tier].messages_per_minute
    for _ in range(allowed):
        await limiter.check(user_id, tier, now=start + 59.5)
    assert not (await limiter.check(user_id, tier, now=start + 59.9)).allowed
    # A new minute, a new allowance.
    fresh = [await limiter.check(user_id, tier, now=start + 60.0) for _ in range(allowed)]
    assert all(d.allowed for d in fresh)
    assert not (await limiter.check(user_id, tier, now=start + 61)).allowed


@TIERS
async def test_another_user_is_unaffected(
    redis: aioredis.Redis, keys: RedisKeys, tier: Tier
) -> None:
    limiter = MessageRateLimiter(redis, keys)
    busy, quiet = UserID.new(), UserID.new()
    moment = _minute_start() + 1
    for _ in range(TIER_LIMITS[tier].messages_per_minute + 1):
        await limiter.check(busy, tier, now=moment)
    assert not (await limiter.check(busy, tier, now=moment)).allowed
    assert (await limiter.check(quiet, tier, now=moment)).allowed


async def test_concurrent_checks_allow_exactly_the_limit(
    redis: aioredis.Redis, keys: RedisKeys
) -> None:
    limiter = MessageRateLimiter(redis, keys)
    user_id = UserID.new()
    moment = _minute_start() + 30
    allowed = TIER_LIMITS[Tier.FREE].messages_per_minute
    decisions = await asyncio.gather(
        *(limiter.check(user_id, Tier.FREE, now=moment) for _ in range(allowed + 10))
    )
    assert sum(d.allowed for d in decisions) == allowed


async def test_two_nodes_share_one_counter(gp_services, keys: RedisKeys) -> None:
    first = aioredis.Redis.from_url(gp_services.redis_url)
    second = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        node_a, node_b = MessageRateLimiter(first, keys), MessageRateLimiter(second, keys)
        user_id = UserID.new()
        moment = _minute_start() + 5
        allowed = TIER_LIMITS[Tier.FREE].messages_per_minute
        for n in range(allowed):
            assert (
                await (node_a if n % 2 else node_b).check(user_id, Tier.FREE, now=moment)
            ).allowed
        assert not (await node_a.check(user_id, Tier.FREE, now=moment)).allowed
        assert not (await node_b.check(user_id, Tier.FREE, now=moment)).allowed
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_counter_key_expires_and_stays_in_the_namespace(
    redis: aioredis.Redis, keys: RedisKeys, gp_services
) -> None:
    limiter = MessageRateLimiter(redis, keys)
    user_id = UserID.new()
    moment = _minute_start() + 2
    await limiter.check(user_id, Tier.MID, now=moment)
    await limiter.check(user_id, Tier.MID, now=moment)
    key = keys.message_rate(str(user_id), int(moment // 60))
    assert key.startswith(gp_services.redis_namespace)
    assert await redis.get(key) == b"2"
    assert 60 < await redis.ttl(key) <= 120


@TIERS
async def test_without_redis_messages_go_through(
    dead_redis: aioredis.Redis, keys: RedisKeys, tier: Tier
) -> None:
    limiter = MessageRateLimiter(dead_redis, keys)
    user_id = UserID.new()
    moment = _minute_start()
    decisions = [
        await limiter.check(user_id, tier, now=moment)
        for _ in range(TIER_LIMITS[tier].messages_per_minute + 3)
    ]
    assert all(d.allowed for d in decisions)


# -- presence -----------------------------------------------------------------------------


@TIERS
async def test_presence_admits_up_to_the_tiers_open_websockets(
    redis: aioredis.Redis, keys: RedisKeys, tier: Tier
) -> None:
    presence = Presence(redis, keys)
    user_id = UserID.new()
    limit = TIER_LIMITS[tier].open_websockets
    sockets = [ConnectionID.new() for _ in range(limit)]
    assert [await presence.admit(user_id, s, limit) for s in sockets] == [True] * limit
    extra = ConnectionID.new()
    assert not await presence.admit(user_id, extra, limit)
    assert await redis.zcard(keys.sockets(str(user_id))) == limit
    # Closing one socket frees exactly one slot.
    await presence.release(user_id, sockets[0])
    assert await presence.admit(user_id, extra, limit)
    assert not await presence.admit(user_id, ConnectionID.new(), limit)


@TIERS
async def test_presence_is_shared_between_nodes(gp_services, keys: RedisKeys, tier: Tier) -> None:
    first = aioredis.Redis.from_url(gp_services.redis_url)
    second = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        node_a, node_b = Presence(first, keys), Presence(second, keys)
        user_id = UserID.new()
        limit = TIER_LIMITS[tier].open_websockets
        on_a = [ConnectionID.new() for _ in range(limit - 1)]
        for conn_id in on_a:
            assert await node_a.admit(user_id, conn_id, limit)
        assert await node_b.admit(user_id, ConnectionID.new(), limit)
        assert not await node_a.admit(user_id, ConnectionID.new(), limit)
        assert not await node_b.admit(user_id, ConnectionID.new(), limit)
        await node_a.release(user_id, on_a[0])
        assert await node_b.admit(user_id, ConnectionID.new(), limit)
    finally:
        await first.aclose()
        await second.aclose()


async def test_presence_counts_users_separately(redis: aioredis.Redis, keys: RedisKeys) -> None:
    presence = Presence(redis, keys)
    full, other = UserID.new(), UserID.new()
    limit = TIER_LIMITS[Tier.FREE].open_websockets
    for _ in range(limit):
        assert await presence.admit(full, ConnectionID.new(), limit)
    assert not await presence.admit(full, ConnectionID.new(), limit)
    assert await presence.admit(other, ConnectionID.new(), limit)


async def test_an_expired_lease_stops_counting(redis: aioredis.Redis, keys: RedisKeys) -> None:
    presence = Presence(redis, keys)
    user_id = UserID.new()
    limit = TIER_LIMITS[Tier.FREE].open_websockets
    # Sockets of a node that died: their leases ended a while ago.
    await redis.zadd(
        keys.sockets(str(user_id)),
        {str(ConnectionID.new()): time.time() - 5 for _ in range(limit)},
    )
    assert await presence.admit(user_id, ConnectionID.new(), limit)
    assert await redis.zcard(keys.sockets(str(user_id))) == 1


async def test_renew_extends_the_lease(redis: aioredis.Redis, keys: RedisKeys) -> None:
    presence = Presence(redis, keys)
    user_id, conn_id = UserID.new(), ConnectionID.new()
    key = keys.sockets(str(user_id))
    assert await presence.admit(user_id, conn_id, 2)
    await redis.zadd(key, {str(conn_id): time.time() + 1})
    await presence.renew(user_id, conn_id)
    score = await redis.zscore(key, str(conn_id))
    assert time.time() + LEASE_S - 5 <= score <= time.time() + LEASE_S
    assert 0 < await redis.ttl(key) <= LEASE_S * 2


@TIERS
async def test_without_redis_presence_counts_this_node(
    dead_redis: aioredis.Redis, keys: RedisKeys, tier: Tier
) -> None:
    presence = Presence(dead_redis, keys)
    user_id = UserID.new()
    limit = TIER_LIMITS[tier].open_websockets
    sockets = [ConnectionID.new() for _ in range(limit)]
    assert [await presence.admit(user_id, s, limit) for s in sockets] == [True] * limit
    assert not await presence.admit(user_id, ConnectionID.new(), limit)
    await presence.release(user_id, sockets[-1])
    assert await presence.admit(user_id, ConnectionID.new(), limit)
    await presence.renew(user_id, sockets[0])  # logged, never raised
    assert await presence.admit(UserID.new(), ConnectionID.new(), limit)
