"""Refresh-token families, access-token denials and WebSocket tickets, kept in Redis.

A login starts a *family*; each refresh spends the family's current refresh
token and names a new one. Presenting a spent token means it was copied: the
whole family is revoked (theft detection), and so are its access tokens.
Logout revokes the family and denies the access token's ``jti`` until it
expires. Every check here fails closed: if Redis cannot answer, the caller
gets :class:`SessionStoreUnavailable` and refuses, rather than accepting a
token it cannot check.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.errors import Unavailable
from golden_path.ids import UserID
from golden_path.protocol import TICKET_TTL_SECONDS
from golden_path.server.auth.tokens import Claims
from golden_path.server.redis_keys import RedisKeys
from golden_path.tiers import Tier

_ROTATE = """
local state = redis.call('HMGET', KEYS[1], 'current', 'revoked')
if not state[1] then return 'unknown' end
if state[2] == '1' then return 'revoked' end
if state[1] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return 'reused'
end
redis.call('HSET', KEYS[1], 'current', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 'ok'
"""


class SessionStoreUnavailable(Unavailable):
    """Redis did not answer; the caller must refuse (fail closed)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the session store", detail)


class Rotation(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    REUSED = "reused"


@dataclass(frozen=True, slots=True)
class Ticket:
    user_id: UserID
    tier: Tier
    jti: str
    family: str
    expires_at: int


class SessionStore:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, refresh_ttl_s: int) -> None:
        self._redis = client
        self._keys = keys
        self._refresh_ttl_s = refresh_ttl_s
        self._rotate = client.register_script(_ROTATE)

    async def start_family(self, refresh: Claims) -> None:
        try:
            await self._redis.hset(
                self._keys.family(refresh.family),
                mapping={"current": refresh.jti, "revoked": "0", "user": str(refresh.user_id)},
            )
            await self._redis.expire(self._keys.family(refresh.family), self._refresh_ttl_s)
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def rotate(self, presented: Claims, new_jti: str) -> Rotation:
        """Spend ``presented`` and make ``new_jti`` the family's current refresh token."""
        try:
            answer = await self._rotate(
                keys=[self._keys.family(presented.family)],
                args=[presented.jti, new_jti, self._refresh_ttl_s],
            )
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        return Rotation(text)

    async def revoke(self, access: Claims) -> None:
        """Logout: revoke the family and deny this access token until it expires."""
        remaining = max(1, access.expires_at - int(time.time()) + 1)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._keys.family(access.family), "revoked", "1")
                pipe.expire(self._keys.family(access.family), self._refresh_ttl_s)
                pipe.set(self._keys.denied(access.jti), "1", ex=remaining)
                await pipe.execute()
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def is_revoked(self, access: Claims) -> bool:
        """Whether this access token was denied or its family revoked."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(self._keys.denied(access.jti))
                pipe.hget(self._keys.family(access.family), "revoked")
                denied, family_revoked = await pipe.execute()
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        return bool(denied) or family_revoked in (b"1", "1")

    async def issue_ticket(self, access: Claims) -> str:
        ticket = secrets.token_urlsafe(32)
        body = json.dumps(
            {
                "sub": str(access.user_id),
                "tier": access.tier.value,
                "jti": access.jti,
                "fam": access.family,
                "exp": access.expires_at,
            }
        )
        try:
            await self._redis.set(self._keys.ticket(ticket), body, ex=TICKET_TTL_SECONDS)
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        return ticket

    async def redeem_ticket(self, ticket: str) -> Ticket | None:
        """The ticket's holder, once: a second redemption (or an unknown ticket) gives None."""
        if not ticket or len(ticket) > 128:
            return None
        try:
            raw = await self._redis.getdel(self._keys.ticket(ticket))
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        if raw is None:
            return None
        data = json.loads(raw)
        return Ticket(
            user_id=UserID(data["sub"]),
            tier=Tier.parse(data["tier"]),
            jti=str(data["jti"]),
            family=str(data["fam"]),
            expires_at=int(data["exp"]),
        )
