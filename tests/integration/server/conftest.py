"""Fixtures for the server-component integration tests: real PostgreSQL and Redis, no HTTP.

Isolation comes from fresh users (unique emails) and a Redis key prefix unique to
each test, never from cleaning tables: every worker has its own database, every
test its own users and keys, so tests may run in any order and on any worker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from golden_path.db import runs, threads, users
from golden_path.db.pool import create_pool
from golden_path.ids import MessageID, RequestID, RunID, UserID
from golden_path.protocol import EventType
from golden_path.server.redis_keys import RedisKeys
from golden_path.services.model import Services
from golden_path.services.processes import free_port
from golden_path.tiers import Tier

WAIT_S = 10.0
TERMINAL_TYPES = frozenset({EventType.AGENT_COMPLETED.value, EventType.AGENT_ERROR.value})
# A password hash is opaque to the repositories; a fixed one keeps user creation fast.
PASSWORD_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"

NewUser = Callable[..., Awaitable[users.User]]


def unique_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex}@example.test"


@pytest.fixture
async def pool(gp_services: Services) -> AsyncIterator[asyncpg.Pool]:
    """A pool of up to five connections to this worker's migrated database."""
    created = await create_pool(gp_services.postgres_dsn, size=5)
    try:
        yield created
    finally:
        # close() waits for every borrowed connection; one never given back is a leak.
        try:
            await asyncio.wait_for(created.close(), WAIT_S)
        except TimeoutError:
            created.terminate()
            pytest.fail(
                "a pooled connection was never given back (pool.close() timed out): "
                "a transaction was abandoned without releasing its connection",
                pytrace=False,
            )


@pytest.fixture
async def redis(gp_services: Services) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def dead_redis() -> AsyncIterator[aioredis.Redis]:
    """A real client pointed at a port nothing listens on: every command fails at once."""
    client = aioredis.Redis(
        host="127.0.0.1",
        port=free_port(),
        socket_connect_timeout=1,
        socket_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def keys(gp_services: Services) -> RedisKeys:
    """Keys under this worker's namespace and a prefix of this test's own."""
    return RedisKeys(f"{gp_services.redis_namespace}{uuid.uuid4().hex[:12]}:")


@pytest.fixture
async def new_user(pool: asyncpg.Pool) -> NewUser:
    """Create a fresh user (unique email), optionally on a given tier."""

    async def create(tier: Tier = Tier.FREE, email: str | None = None) -> users.User:
        async with pool.acquire() as conn:
            user = await users.create(conn, email or unique_email(tier.value), PASSWORD_HASH)
            if tier is not Tier.FREE:
                await users.set_tier(conn, user.id, tier)
                fetched = await users.by_id(conn, user.id)
                assert fetched is not None
                user = fetched
        return user

    return create


@pytest.fixture
async def user(new_user: NewUser) -> users.User:
    return await new_user()


async def create_run(
    conn: Any,
    user_id: UserID,
    thread_id: str | None = None,
    request_id: str | None = None,
    node_id: str = "node-test",
) -> runs.Run:
    """A thread (unless given) and a running run in it, written directly."""
    if thread_id is None:
        thread_id = (await threads.create(conn, user_id, "a thread")).id
    return await runs.create(
        conn,
        run_id=RunID.new(),
        user_id=user_id,
        thread_id=thread_id,
        request_id=RequestID(request_id or RequestID.new()),
        message_id=MessageID.new(),
        node_id=node_id,
    )


class Recorder:
    """A hub subscriber that keeps what it is pushed and wakes whoever waits for it.

    ``wait_for(predicate)`` returns once an event satisfying ``predicate`` has
    arrived (bounded by ``WAIT_S``), with no polling: every push sets an event.
    """

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def push_live(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S
    ) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no matching event within {timeout} s; got {self.events!r}"
            ) from None

    async def terminal(self, run_id: str, timeout: float = WAIT_S) -> dict[str, Any]:
        return await self.wait_for(
            lambda e: e.get("run_id") == run_id and e.get("type") in TERMINAL_TYPES, timeout
        )

    def of_run(self, run_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("run_id") == run_id]
