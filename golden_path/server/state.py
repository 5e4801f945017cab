"""The server's long-lived parts, opened at start and closed at stop, in one place."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from golden_path.db.migrate import migrate_dsn
from golden_path.db.scope import Database
from golden_path.ids import RunID, UserID
from golden_path.protocol import CloseCode
from golden_path.server.auth.passwords import Passwords
from golden_path.server.auth.sessions import SessionStore
from golden_path.server.auth.tokens import Tokens
from golden_path.server.config import ConfigError, Settings
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.server.runs.recovery import NodeLease
from golden_path.server.runs.service import RunService
from golden_path.server.ws.connection import Connection
from golden_path.server.ws.hub import Hub
from golden_path.server.ws.presence import Presence

log = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 2.0


@dataclass
class ServerState:
    settings: Settings
    db: Database
    redis: aioredis.Redis
    tokens: Tokens
    passwords: Passwords
    sessions: SessionStore
    presence: Presence
    hub: Hub
    runs: RunService
    lease: NodeLease
    connections: set[Connection] = field(default_factory=set)
    shutting_down: bool = False

    @classmethod
    async def open(cls, settings: Settings) -> ServerState:
        if not settings.postgres_dsn or not settings.redis_url:
            raise ConfigError(
                "GOLDEN_PATH_POSTGRES_DSN and GOLDEN_PATH_REDIS_URL are required "
                "(golden-path serve starts embedded services when both are unset)"
            )
        await migrate_dsn(settings.postgres_dsn)  # as the login (the owner), before any role
        db = await Database.open(settings.postgres_dsn, settings.db_pool_size)
        client = aioredis.Redis.from_url(
            settings.redis_url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        lease = NodeLease(settings.postgres_dsn, settings.node_id)
        await lease.acquire()
        keys = RedisKeys(settings.redis_prefix)
        hub = Hub(client, keys, settings.node_id)
        run_service = RunService(
            db,
            hub,
            MessageRateLimiter(client, keys),
            settings.node_id,
            run_timeout_s=settings.run_timeout_s,
            step_delay_s=settings.agent_step_delay_ms / 1000,
        )
        state = cls(
            settings=settings,
            db=db,
            redis=client,
            tokens=Tokens(settings),
            passwords=Passwords(settings.password_hash_profile),
            sessions=SessionStore(client, keys, settings.refresh_ttl_s),
            presence=Presence(client, keys),
            hub=hub,
            runs=run_service,
            lease=lease,
        )
        hub.start(state.on_control)
        await run_service.interrupt_orphans()
        return state

    async def on_control(self, message: dict[str, Any]) -> None:
        """A message from another node: today, a request to cancel a run running here."""
        run_id, user_id = message.get("cancel"), message.get("user_id")
        if RunID.is_valid(run_id) and UserID.is_valid(user_id):
            await self.runs.cancel(RunID(run_id), UserID(user_id))

    async def stop_serving(self, grace_s: float) -> None:
        """Graceful stop: no new runs; runs in flight finish (or are interrupted); sockets 1001."""
        if self.shutting_down:
            return
        self.shutting_down = True
        await self.runs.drain(grace_s)
        for connection in list(self.connections):
            connection.close(CloseCode.GOING_AWAY, "server shutting down")
        waits = [c.closed.wait() for c in list(self.connections)]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=5)

    async def close(self, grace_s: float = 10.0) -> None:
        await self.stop_serving(grace_s)
        await self.hub.stop()
        await self.lease.release()
        await self.redis.aclose()
        await self.db.close()
