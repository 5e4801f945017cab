"""Refresh families, logout denials and WebSocket tickets in real Redis; fail closed without it."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from golden_path.ids import UserID
from golden_path.protocol import TICKET_TTL_SECONDS
from golden_path.server.auth.sessions import (
    Rotation,
    SessionStore,
    SessionStoreUnavailable,
    Ticket,
)
from golden_path.server.auth.tokens import Claims, TokenPair, Tokens
from golden_path.server.config import Settings
from golden_path.server.redis_keys import RedisKeys
from golden_path.tiers import TIER_ORDER, Tier

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a stolen refresh token is caught on its second use and kills its whole "
        "session; logout really ends access; a WebSocket ticket works once",
        revenue_impact="account takeover is the fastest way to lose a customer and their "
        "team; failing closed keeps a Redis outage from becoming an auth bypass",
    ),
]

ACCESS_TTL_S = 900
REFRESH_TTL_S = 3600


@pytest.fixture
def tokens() -> Tokens:
    return Tokens(
        Settings(
            jwt_secret="an-integration-test-secret-of-at-least-32-bytes",
            access_ttl_s=ACCESS_TTL_S,
            refresh_ttl_s=REFRESH_TTL_S,
        ).validated()
    )


@pytest.fixture
def store(redis: aioredis.Redis, keys: RedisKeys) -> SessionStore:
    return SessionStore(redis, keys, REFRESH_TTL_S)


@pytest.fixture
def dead_store(dead_redis: aioredis.Redis, keys: RedisKeys) -> SessionStore:
    return SessionStore(dead_redis, keys, REFRESH_TTL_S)


def _login(tokens: Tokens, tier: Tier = Tier.FREE, user_id: UserID | None = None) -> TokenPair:
    return tokens.issue_pair(user_id or UserID.new(), tier)


def _refreshed(tokens: Tokens, presented: Claims) -> TokenPair:
    """The pair a refresh would hand out: same user, tier and family, new jtis."""
    return tokens.issue_pair(presented.user_id, presented.tier, family=presented.family)


# -- refresh families ---------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)
async def test_a_family_rotates_along_its_chain(
    tokens: Tokens, store: SessionStore, tier: Tier
) -> None:
    pair = _login(tokens, tier)
    await store.start_family(pair.refresh_claims)
    current = pair
    for _ in range(4):
        following = _refreshed(tokens, current.refresh_claims)
        assert following.refresh_claims.family == pair.refresh_claims.family
        answer = await store.rotate(current.refresh_claims, following.refresh_claims.jti)
        assert answer is Rotation.OK
        current = following
    assert not await store.is_revoked(current.access_claims)


async def test_start_family_stores_the_current_token_with_its_ttl(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = _login(tokens)
    await store.start_family(pair.refresh_claims)
    key = keys.family(pair.refresh_claims.family)
    assert key.startswith(keys.prefix)
    stored = await redis.hgetall(key)
    assert stored == {
        b"current": pair.refresh_claims.jti.encode(),
        b"revoked": b"0",
        b"user": str(pair.refresh_claims.user_id).encode(),
        b"epoch": b"0",
    }
    assert REFRESH_TTL_S - 5 <= await redis.ttl(key) <= REFRESH_TTL_S


async def test_rotation_of_an_unknown_family_is_unknown(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = _login(tokens)
    answer = await store.rotate(
        pair.refresh_claims, _refreshed(tokens, pair.refresh_claims).refresh_claims.jti
    )
    assert answer is Rotation.UNKNOWN
    assert await redis.exists(keys.family(pair.refresh_claims.family)) == 0


async def test_reusing_a_spent_token_revokes_the_whole_family(
    tokens: Tokens, store: SessionStore
) -> None:
    login = _login(tokens)
    await store.start_family(login.refresh_claims)
    second = _refreshed(tokens, login.refresh_claims)
    assert await store.rotate(login.refresh_claims, second.refresh_claims.jti) is Rotation.OK

    # The first refresh token is presented again: someone copied it.
    thief = _refreshed(tokens, login.refresh_claims)
    assert await store.rotate(login.refresh_claims, thief.refresh_claims.jti) is Rotation.REUSED

    # Now even the legitimate current token is refused, and so is every access token.
    third = _refreshed(tokens, second.refresh_claims)
    assert await store.rotate(second.refresh_claims, third.refresh_claims.jti) is Rotation.REVOKED
    assert await store.rotate(login.refresh_claims, third.refresh_claims.jti) is Rotation.REVOKED
    assert await store.is_revoked(login.access_claims)
    assert await store.is_revoked(second.access_claims)


async def test_reuse_in_one_family_leaves_other_families_alone(
    tokens: Tokens, store: SessionStore
) -> None:
    user_id = UserID.new()
    laptop, phone = _login(tokens, user_id=user_id), _login(tokens, user_id=user_id)
    await store.start_family(laptop.refresh_claims)
    await store.start_family(phone.refresh_claims)
    nxt = _refreshed(tokens, laptop.refresh_claims)
    await store.rotate(laptop.refresh_claims, nxt.refresh_claims.jti)
    assert await store.rotate(laptop.refresh_claims, "f" * 32) is Rotation.REUSED
    assert not await store.is_revoked(phone.access_claims)
    following = _refreshed(tokens, phone.refresh_claims)
    assert await store.rotate(phone.refresh_claims, following.refresh_claims.jti) is Rotation.OK


async def test_rotation_renews_the_family_ttl(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = _login(tokens)
    await store.start_family(pair.refresh_claims)
    key = keys.family(pair.refresh_claims.family)
    await redis.expire(key, 60)
    nxt = _refreshed(tokens, pair.refresh_claims)
    assert await store.rotate(pair.refresh_claims, nxt.refresh_claims.jti) is Rotation.OK
    assert await redis.ttl(key) > 60
    assert await redis.hget(key, "current") == nxt.refresh_claims.jti.encode()


# -- logout -------------------------------------------------------------------------------


async def test_logout_denies_the_access_token_and_its_family(
    tokens: Tokens, store: SessionStore
) -> None:
    login = _login(tokens)
    await store.start_family(login.refresh_claims)
    refreshed = _refreshed(tokens, login.refresh_claims)
    await store.rotate(login.refresh_claims, refreshed.refresh_claims.jti)
    other_session = _login(tokens, user_id=login.access_claims.user_id)
    await store.start_family(other_session.refresh_claims)

    assert not await store.is_revoked(refreshed.access_claims)
    await store.revoke(refreshed.access_claims)

    assert await store.is_revoked(refreshed.access_claims)
    assert await store.is_revoked(login.access_claims)  # same family, older access token
    assert not await store.is_revoked(other_session.access_claims)
    # The refresh token of the logged-out family no longer rotates.
    assert await store.rotate(refreshed.refresh_claims, "a" * 32) is Rotation.REVOKED


async def test_the_denial_lasts_as_long_as_the_access_token(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = _login(tokens)
    await store.start_family(pair.refresh_claims)
    await store.revoke(pair.access_claims)
    remaining = pair.access_claims.expires_at - int(time.time())
    ttl = await redis.ttl(keys.denied(pair.access_claims.jti))
    assert remaining - 5 <= ttl <= remaining + 1
    assert ttl <= ACCESS_TTL_S + 1


async def test_a_nearly_expired_token_is_denied_for_at_least_a_second(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = tokens.issue_pair(UserID.new(), Tier.FREE, now=time.time() - ACCESS_TTL_S - 30)
    await store.revoke(pair.access_claims)
    ttl = await redis.ttl(keys.denied(pair.access_claims.jti))
    assert 0 < ttl <= 1
    assert await store.is_revoked(pair.access_claims)


async def test_logout_without_a_known_family_still_denies_the_token(
    tokens: Tokens, store: SessionStore
) -> None:
    pair = _login(tokens)
    await store.revoke(pair.access_claims)
    assert await store.is_revoked(pair.access_claims)
    assert await store.rotate(pair.refresh_claims, "b" * 32) is Rotation.UNKNOWN


async def test_a_denied_jti_alone_revokes_only_that_token(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    pair = _login(tokens)
    await store.start_family(pair.refresh_claims)
    await store.revoke(pair.access_claims)
    # Clear the family flag: the per-token denial on its own still holds.
    await redis.hset(keys.family(pair.access_claims.family), "revoked", "0")
    assert await store.is_revoked(pair.access_claims)
    sibling = _refreshed(tokens, pair.refresh_claims)
    assert not await store.is_revoked(sibling.access_claims)


# -- tickets ------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)
async def test_a_ticket_is_redeemed_once_for_its_holder(
    tokens: Tokens, store: SessionStore, tier: Tier
) -> None:
    pair = _login(tokens, tier)
    ticket = await store.issue_ticket(pair.access_claims)
    assert 16 <= len(ticket) <= 128
    held = await store.redeem_ticket(ticket)
    assert held == Ticket(
        user_id=pair.access_claims.user_id,
        tier=tier,
        jti=pair.access_claims.jti,
        family=pair.access_claims.family,
        expires_at=pair.access_claims.expires_at,
    )
    assert await store.redeem_ticket(ticket) is None


async def test_a_ticket_lives_at_most_thirty_seconds(
    tokens: Tokens, store: SessionStore, redis: aioredis.Redis, keys: RedisKeys
) -> None:
    ticket = await store.issue_ticket(_login(tokens).access_claims)
    ttl = await redis.ttl(keys.ticket(ticket))
    assert 0 < ttl <= TICKET_TTL_SECONDS <= 30


@pytest.mark.parametrize(
    "ticket", ["", "x" * 129, "never-issued-ticket-value"], ids=["empty", "long", "unknown"]
)
async def test_unknown_or_malformed_tickets_are_none(store: SessionStore, ticket: str) -> None:
    assert await store.redeem_ticket(ticket) is None


async def test_tickets_are_distinct_and_independent(tokens: Tokens, store: SessionStore) -> None:
    pair = _login(tokens)
    first = await store.issue_ticket(pair.access_claims)
    second = await store.issue_ticket(pair.access_claims)
    assert first != second
    assert await store.redeem_ticket(first) is not None
    assert await store.redeem_ticket(second) is not None


async def test_concurrent_redemptions_of_one_ticket_succeed_once(
    tokens: Tokens, store: SessionStore
) -> None:
    ticket = await store.issue_ticket(_login(tokens).access_claims)
    outcomes = await asyncio.gather(*(store.redeem_ticket(ticket) for _ in range(8)))
    assert sum(o is not None for o in outcomes) == 1


# -- fail closed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    ["start_family", "rotate", "revoke", "is_revoked", "issue_ticket", "redeem_ticket"],
)
async def test_session_store_unavailable_per_operation(
    tokens: Tokens, dead_store: SessionStore, operation: str
) -> None:
    pair = _login(tokens)
    calls = {
        "start_family": lambda: dead_store.start_family(pair.refresh_claims),
        "rotate": lambda: dead_store.rotate(pair.refresh_claims, "c" * 32),
        "revoke": lambda: dead_store.revoke(pair.access_claims),
        "is_revoked": lambda: dead_store.is_revoked(pair.access_claims),
        "issue_ticket": lambda: dead_store.issue_ticket(pair.access_claims),
        "redeem_ticket": lambda: dead_store.redeem_ticket("some-ticket-value"),
    }
    with pytest.raises(SessionStoreUnavailable):
        await calls[operation]()
