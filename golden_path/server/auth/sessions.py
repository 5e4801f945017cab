"""Refresh-token families, access-token denials and WebSocket tickets, kept in Redis.

A login starts a *family*; each refresh spends the family's current refresh
token and names a new one. Presenting a spent token means it was copied: the
whole family is revoked (theft detection), and so are its access tokens.
Logout revokes the family and denies the access token's ``jti`` until it
expires; logout-all moves the user's *session epoch* on, which ends every family
started before. A family Redis does not have (expired, evicted, never issued) is
revoked. Every check here fails closed: if Redis cannot answer, the caller
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

# A family records its user and the user's session epoch when it starts. It is valid
# while it exists, is not revoked, and its epoch is still the user's (logout-all moves the
# epoch on). A family Redis no longer has is revoked: an evicted key never revives a token.
_START = """
local epoch = redis.call('GET', KEYS[2]) or '0'
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'revoked', '0', 'user', ARGV[2], 'epoch', epoch)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# ARGV: presented refresh jti ('' = none: the bearer moves the family on, see upgrade),
# the new jti, the refresh lifetime, the user.
_ROTATE = """
local state = redis.call('HMGET', KEYS[1], 'current', 'revoked', 'user', 'epoch')
if not state[1] then return 'unknown' end
local epoch = redis.call('GET', KEYS[2]) or '0'
if state[2] ~= '0' or state[3] ~= ARGV[4] or state[4] ~= epoch then return 'revoked' end
if ARGV[1] ~= '' and state[1] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return 'reused'
end
redis.call('HSET', KEYS[1], 'current', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 'ok'
"""

_IS_REVOKED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local state = redis.call('HMGET', KEYS[2], 'revoked', 'user', 'epoch')
if not state[1] then return 1 end
local epoch = redis.call('GET', KEYS[3]) or '0'
if state[1] ~= '0' or state[2] ~= ARGV[1] or state[3] ~= epoch then return 1 end
return 0
"""


class SessionStoreUnavailable(Unavailable):
    """Redis did not answer; the caller must refuse (fail closed)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the session store", detail)


def _remaining(access: Claims) -> int:
    """Seconds until ``access`` expires (at least 1): how long its denial must last."""
    return max(1, access.expires_at - int(time.time()) + 1)


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
        self._start = client.register_script(_START)
        self._rotate = client.register_script(_ROTATE)
        self._is_revoked = client.register_script(_IS_REVOKED)

    async def start_family(self, refresh: Claims) -> None:
        """A login: the family of ``refresh``, at the user's current session epoch."""
        user = str(refresh.user_id)
        try:
            await self._start(
                keys=[self._keys.family(refresh.family), self._keys.session_epoch(user)],
                args=[refresh.jti, user, self._refresh_ttl_s],
            )
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def rotate(self, presented: Claims, new_jti: str) -> Rotation:
        """Spend ``presented`` and make ``new_jti`` the family's current refresh token."""
        return await self._move(presented.family, presented.user_id, presented.jti, new_jti)

    async def advance(self, bearer: Claims, new_jti: str) -> Rotation:
        """Make ``new_jti`` the current refresh token of the bearer's family (an upgrade).

        The family's refresh token until now is spent at once, as by a refresh: the family
        stays one chain, so a logout or a detected theft still ends all of it.
        """
        return await self._move(bearer.family, bearer.user_id, "", new_jti)

    async def _move(self, family: str, user_id: UserID, presented: str, new_jti: str) -> Rotation:
        user = str(user_id)
        try:
            answer = await self._rotate(
                keys=[self._keys.family(family), self._keys.session_epoch(user)],
                args=[presented, new_jti, self._refresh_ttl_s, user],
            )
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        return Rotation(text)

    async def revoke(self, access: Claims) -> None:
        """Logout: revoke the family and deny this access token until it expires."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._keys.family(access.family), "revoked", "1")
                pipe.expire(self._keys.family(access.family), self._refresh_ttl_s)
                pipe.set(self._keys.denied(access.jti), "1", ex=_remaining(access))
                await pipe.execute()
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def revoke_all(self, access: Claims) -> None:
        """Logout everywhere: move the user's session epoch on, which ends every family.

        The epoch key has no expiry (one small number per user who ever did this): were it
        to expire, the families it ended would read as current again.
        """
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(self._keys.session_epoch(str(access.user_id)))
                pipe.set(self._keys.denied(access.jti), "1", ex=_remaining(access))
                await pipe.execute()
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def is_revoked(self, access: Claims) -> bool:
        """Whether this access token was denied, or its family is revoked, ended or unknown."""
        user = str(access.user_id)
        try:
            answer = await self._is_revoked(
                keys=[
                    self._keys.denied(access.jti),
                    self._keys.family(access.family),
                    self._keys.session_epoch(user),
                ],
                args=[user],
            )
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc
        return bool(int(answer))

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
