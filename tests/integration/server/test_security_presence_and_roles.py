"""The socket limit cannot expire under open sockets; production refuses a login that
bypasses row-level security (security review, issue 13 §4 and §7). Real Redis, real
PostgreSQL roles."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from golden_path.db.errors import RowSecurityBypassed
from golden_path.db.scope import Database
from golden_path.ids import ConnectionID, UserID
from golden_path.server.config import Settings
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.state import DEVELOPMENT_WARNING, ServerState
from golden_path.server.ws.presence import Presence
from golden_path.services.model import Services

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.security,
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="The open-socket limit holds for as long as sockets stay open, and a "
        "production server never runs with tenant isolation switched off",
        revenue_impact="A bypassed socket limit is a free upgrade; a server that bypasses "
        "row-level security can show one customer another's data",
    ),
]

LEASE_S = 1  # the set expires after two leases (2 s) unless renewed


async def test_renewals_keep_the_socket_set_alive_so_the_limit_holds(
    redis: aioredis.Redis, keys: RedisKeys
) -> None:
    presence = Presence(redis, keys, lease_s=LEASE_S)
    user, socket_id = UserID.new(), ConnectionID.new()
    key = keys.sockets(str(user))
    admitted_at = time.monotonic()
    assert await presence.admit(user, socket_id, limit=1)
    # Renew as an open socket's watchdog does, each time half the expiry has passed, until
    # well past the moment the set would have expired had only the admit set its expiry.
    renewals = 0
    while time.monotonic() - admitted_at < 2 * LEASE_S + 0.5:
        if await redis.pttl(key) < 1000:  # polled at Redis round-trip pace
            await presence.renew(user, socket_id)
            renewals += 1
            assert await redis.pttl(key) > 1900  # the expiry moved on with the lease
    assert renewals >= 2
    # The first socket is still open and counted: a second one is over the limit of 1.
    assert await redis.zcard(key) == 1
    assert not await presence.admit(user, ConnectionID.new(), limit=1)


def _as_login(dsn: str, login: str, password: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}:{password}@{host}"))


@pytest.fixture
async def bypassing_login(gp_services: Services) -> AsyncIterator[str]:
    """A DSN of a fresh login with BYPASSRLS that may not become golden_path_app."""
    name, password = f"bypass_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    admin = await asyncpg.connect(gp_services.postgres_dsn)
    try:
        # With a password: a server that checks them (a container's scram-sha-256) must
        # let this login in as well as one that trusts local connections.
        await admin.execute(f"CREATE ROLE \"{name}\" LOGIN BYPASSRLS PASSWORD '{password}'")
        yield _as_login(gp_services.postgres_dsn, name, password)
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        await admin.close()


async def test_production_refuses_a_login_that_bypasses_row_level_security(
    bypassing_login: str,
) -> None:
    with pytest.raises(RowSecurityBypassed, match="refusing to start in production"):
        await Database.open(bypassing_login, 1, require_app_role=True)


async def test_development_opens_it_with_a_warning(bypassing_login: str) -> None:
    with logged("golden_path.db.scope") as records:
        db = await Database.open(bypassing_login, 1)
    await db.close()
    assert db.app_role is None
    assert any("bypasses row-level security" in r.getMessage() for r in records)


async def test_the_development_default_is_loud_at_start(gp_database: Services) -> None:
    # A database of its own: a server's start ends the runs of nodes it finds dead, and
    # the worker's shared database holds other tests' (some on purpose).
    settings = replace(
        Settings(
            postgres_dsn=gp_database.postgres_dsn,
            redis_url=gp_database.redis_url,
            redis_prefix=f"{gp_database.redis_namespace}{uuid.uuid4().hex[:8]}:",
        ),
    ).validated()
    assert settings.environment == "development"  # nobody set it: the default
    with logged("golden_path.server.state") as records:
        state = await ServerState.open(settings)
        try:
            assert DEVELOPMENT_WARNING in [r.getMessage() for r in records]
        finally:
            await state.close(grace_s=0)


@contextlib.contextmanager
def logged(name: str) -> Iterator[list[logging.LogRecord]]:
    """What logger ``name`` logs at WARNING and above, caught by a handler of its own:
    unlike caplog's root handler, it does not depend on what other tests in this worker
    did to propagation, levels or ``logging.disable``."""
    logger, records = logging.getLogger(name), []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, saved = (
        Keep(logging.WARNING),
        (logger.level, logger.disabled, logging.root.manager.disable),
    )
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.disabled = False
    logging.disable(logging.NOTSET)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.disabled = saved[1]
        logging.disable(saved[2])
