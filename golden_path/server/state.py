"""The server's long-lived parts, opened at start and closed at stop, in one place.

This is the composition root: it builds each part and hands it what it needs
(the run service publishes through the hub; the socket layer gets its
:class:`SocketServices`). No part reaches back into this state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis.asyncio as aioredis

from golden_path.db.migrate import migrate_dsn
from golden_path.db.scope import Database
from golden_path.server.auth.passwords import Passwords
from golden_path.server.auth.sessions import SessionStore
from golden_path.server.auth.tokens import Tokens
from golden_path.server.config import ConfigError, Settings
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.server.runs.recovery import NodeLease
from golden_path.server.runs.service import RunService
from golden_path.server.ws.hub import Hub
from golden_path.server.ws.presence import Presence
from golden_path.server.ws.session import SocketServices
from golden_path.server.ws.sockets import OpenSockets

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
    sockets: OpenSockets
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
            sockets=OpenSockets(),
        )
        hub.start(run_service.on_control)
        await run_service.interrupt_orphans()
        return state

    def socket_services(self) -> SocketServices:
        """What the socket layer needs, and nothing more."""
        return SocketServices(
            settings=self.settings,
            db=self.db,
            tokens=self.tokens,
            sessions=self.sessions,
            presence=self.presence,
            hub=self.hub,
            runs=self.runs,
            sockets=self.sockets,
        )

    async def stop_serving(self, grace_s: float) -> None:
        """Graceful stop: no new runs; runs in flight finish (or are interrupted); sockets 1001."""
        if self.shutting_down:
            return
        self.shutting_down = True
        self.sockets.closing = True  # new handshakes are refused with 1001 from now on
        await self.runs.drain(grace_s)
        await self.sockets.close_all("server shutting down")

    async def close(self, grace_s: float = 10.0) -> None:
        await self.stop_serving(grace_s)
        await self.hub.stop()
        await self.lease.release()
        await self.redis.aclose()
        await self.db.close()
