"""The server's long-lived parts, opened at start and closed at stop, in one place.

This is the composition root: it builds each part and hands it what it needs
(the run service publishes through the hub; the socket layer gets its
:class:`SocketServices`). No part reaches back into this state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from golden_path.agent import SpendOptimizationAgent
from golden_path.db.migrate import migrate_dsn
from golden_path.db.scope import Database
from golden_path.ids import UserID
from golden_path.server.agui_streams import OpenStreams
from golden_path.server.auth.passwords import Passwords
from golden_path.server.auth.sessions import SessionStore
from golden_path.server.auth.throttle import AuthThrottle
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
REDIS_CONNECTIONS = 100  # per server process, shared by every request and socket
END_SESSIONS = "end_sessions"  # the control message: {"end_sessions": family or "*", "user_id"}
ALL_FAMILIES = "*"
# An AG-UI stream counts towards its tier's cap for at most the run's time limit and this
# (the stream's 30 s of grace and a margin): a crashed node's streams stop counting then.
STREAM_LEASE_MARGIN_S = 60
DEVELOPMENT_WARNING = (
    "GOLDEN_PATH_ENV is 'development' (the default): JWT secrets may be generated per "
    "process, the 'fast' password hash is allowed and a database login that bypasses "
    "row-level security is only warned about. Set GOLDEN_PATH_ENV=production for a "
    "deployment."
)


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
    throttle: AuthThrottle
    stream_presence: Presence  # open AG-UI streams per user, on every node (the tier cap)
    shutting_down: bool = False
    streams: OpenStreams = field(default_factory=OpenStreams)

    @classmethod
    async def open(
        cls, settings: Settings, agent: SpendOptimizationAgent | None = None
    ) -> ServerState:
        """Open every part on ``settings``; ``agent``: the runs' agent (tests plug one in)."""
        if not settings.postgres_dsn or not settings.redis_url:
            raise ConfigError(
                "GOLDEN_PATH_POSTGRES_DSN and GOLDEN_PATH_REDIS_URL are required "
                "(golden-path serve starts embedded services when both are unset)"
            )
        if settings.environment == "development":
            log.warning(DEVELOPMENT_WARNING)
        await migrate_dsn(settings.postgres_dsn)  # as the login (the owner), before any role
        db = await Database.open(
            settings.postgres_dsn,
            settings.db_pool_size,
            require_app_role=settings.environment == "production",
        )
        # A blocking pool: past REDIS_CONNECTIONS, a call waits (up to the timeout) for a
        # connection to come back. redis-py's default pool raises "Too many connections"
        # at 100 instead, which 500 sockets closing at once reached: their presence
        # stayed behind, and handshakes failed 1011 while it lasted.
        client = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=REDIS_CONNECTIONS,
                timeout=REDIS_TIMEOUT_S,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
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
            agent=agent,
        )
        state = cls(
            settings=settings,
            db=db,
            redis=client,
            tokens=Tokens(settings),
            passwords=Passwords(
                settings.password_hash_profile,
                concurrency=settings.password_hash_concurrency,
                queue=settings.password_hash_queue,
            ),
            sessions=SessionStore(client, keys, settings.refresh_ttl_s),
            presence=Presence(client, keys),
            hub=hub,
            runs=run_service,
            lease=lease,
            sockets=OpenSockets(),
            throttle=AuthThrottle(client, keys, settings),
            # A stream lives at most the run's time limit and the grace after it.
            stream_presence=Presence(
                client, keys, int(settings.run_timeout_s) + STREAM_LEASE_MARGIN_S, keys.agui_streams
            ),
        )
        hub.start(state.on_control)
        await run_service.interrupt_orphans()
        return state

    async def on_control(self, message: dict[str, Any]) -> None:
        """Another node's request: cancel a run that runs here, or end a user's sessions."""
        await self.runs.on_control(message)
        family, user_id = message.get(END_SESSIONS), message.get("user_id")
        if isinstance(family, str) and UserID.is_valid(user_id):
            ended = None if family == ALL_FAMILIES else family
            self.sockets.end_sessions(UserID(user_id), ended)
            self.streams.end_sessions(UserID(user_id), ended)

    async def end_sessions(self, user_id: UserID, family: str | None) -> None:
        """Close 4401 the user's sockets of ``family`` (None: every one), here and on every node.

        The sockets of other nodes hear it over the control channel; should that message
        be lost (Redis away), each socket also checks its revocation at its next
        ``user_message`` or ``resume`` and at every lease renewal (§3.4).
        """
        self.sockets.end_sessions(user_id, family)
        self.streams.end_sessions(user_id, family)
        await self.hub.send_control({END_SESSIONS: family or ALL_FAMILIES, "user_id": str(user_id)})

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
        await self.redis.aclose(close_connection_pool=True)  # the pool is ours, given to it
        await self.db.close()
        self.passwords.close()
