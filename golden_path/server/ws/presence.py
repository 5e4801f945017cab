"""How many WebSockets a user holds open, across every server node (Redis), for the 4429 limit.

Each open socket is a member of the user's sorted set, scored by when its lease
ends; a node that dies stops renewing, so its sockets stop counting within a
lease. Without Redis, each node counts its own sockets.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.ids import ConnectionID, UserID
from golden_path.server.redis_keys import RedisKeys

log = logging.getLogger(__name__)
LEASE_S = 90
RENEW_EVERY_S = 30

_ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

_RENEW = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class Presence:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: RedisKeys,
        lease_s: int = LEASE_S,
        key_of: Callable[[str], str] | None = None,
    ) -> None:
        """``key_of``: the user's sorted set (default: their sockets; AG-UI streams use
        ``keys.agui_streams``)."""
        self._redis = client
        self._keys = keys
        self._key_of = key_of or keys.sockets
        self._lease_s = lease_s
        self._admit = client.register_script(_ADMIT)
        self._renew = client.register_script(_RENEW)
        self._local: Counter[UserID] = Counter()

    async def admit(self, user_id: UserID, conn_id: ConnectionID, limit: int) -> bool:
        """Count the socket in if the user has fewer than ``limit`` open; say whether it was."""
        now = time.time()
        try:
            admitted = await self._admit(
                keys=[self._key_of(str(user_id))],
                args=[now, limit, now + self._lease_s, str(conn_id), self._lease_s * 2],
            )
        except RedisError as exc:
            log.warning("presence: Redis unavailable, counting this node only: %s", exc)
            admitted = self._local[user_id] < limit
        if admitted:
            self._local[user_id] += 1
        return bool(admitted)

    async def renew(self, user_id: UserID, conn_id: ConnectionID) -> None:
        try:
            await self._renew(
                keys=[self._key_of(str(user_id))],
                args=[time.time() + self._lease_s, str(conn_id), self._lease_s * 2],
            )
        except RedisError as exc:
            log.warning("presence: could not renew a lease: %s", exc)

    async def release(self, user_id: UserID, conn_id: ConnectionID) -> None:
        self._local[user_id] -= 1
        if self._local[user_id] <= 0:
            del self._local[user_id]
        try:
            await self._redis.zrem(self._key_of(str(user_id)), str(conn_id))
        except RedisError as exc:
            log.warning("presence: could not release a socket: %s", exc)
