"""Per-minute message limits in Redis (fixed one-minute windows per user).

Redis is allowed to be lost (protocol §9): when it does not answer, messages
are let through rather than refused, because a run that completes matters more
than a counter. Quotas and concurrency live in PostgreSQL (see ``admission``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.ids import UserID
from golden_path.server.redis_keys import RedisKeys
from golden_path.tiers import Tier

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_ms: int = 0


class MessageRateLimiter:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys) -> None:
        self._redis = client
        self._keys = keys

    async def check(self, user_id: UserID, tier: Tier, now: float | None = None) -> RateDecision:
        moment = time.time() if now is None else now
        minute = int(moment // 60)
        key = self._keys.message_rate(str(user_id), minute)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 120)
                count, _ = await pipe.execute()
        except RedisError as exc:
            log.warning("rate limiter: Redis unavailable, letting the message through: %s", exc)
            return RateDecision(allowed=True)
        if int(count) <= tier.limits.messages_per_minute:
            return RateDecision(allowed=True)
        retry_after_ms = max(1, int(((minute + 1) * 60 - moment) * 1000))
        return RateDecision(allowed=False, retry_after_ms=retry_after_ms)
