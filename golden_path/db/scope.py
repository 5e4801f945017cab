"""Every server query runs as one tenant (or, rarely, as the system), inside a transaction.

``Database.as_user(user_id)`` borrows a connection, opens a transaction and sets,
for that transaction only, the role the row-level security policies bind
(``golden_path_app``) and the tenant they admit (``golden_path.user_id``). The
policies of migration 0002 then hide every other user's rows, even from a
query that forgot its ``user_id`` filter. ``as_system()`` is for the few
cross-tenant operations: signup, login by email, crash recovery, purge.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from golden_path.db.pool import Conn, create_pool

log = logging.getLogger(__name__)
APP_ROLE = "golden_path_app"
TENANT_SETTING = "golden_path.user_id"
SYSTEM_SETTING = "golden_path.system"


async def usable_app_role(conn: Conn) -> str | None:
    """``golden_path_app`` if it exists and this login may become it; else ``None``."""
    usable = await conn.fetchval(
        "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = $1",
        APP_ROLE,
    )
    return APP_ROLE if usable else None


@asynccontextmanager
async def scoped(
    conn: Conn, *, user_id: str | None = None, system: bool = False, role: str | None = None
) -> AsyncIterator[Conn]:
    """A transaction on ``conn`` in which the policies admit ``user_id`` (or all, for system)."""
    async with conn.transaction():
        # One round trip: the tenant, the system flag and (SET LOCAL ROLE's equivalent) the role.
        await conn.execute(
            "SELECT set_config($1, $2, true), set_config($3, $4, true), "
            "CASE WHEN $5::text IS NULL THEN '' ELSE set_config('role', $5, true) END",
            TENANT_SETTING,
            user_id or "",
            SYSTEM_SETTING,
            "on" if system else "off",
            role,
        )
        yield conn


class Database:
    """The server's pool, handing out tenant-scoped transactions."""

    def __init__(self, pool: asyncpg.Pool, app_role: str | None = None) -> None:
        self.pool = pool
        self.app_role = app_role

    @classmethod
    async def open(cls, dsn: str, size: int) -> Database:
        pool = await create_pool(dsn, size)
        async with pool.acquire() as conn:
            role = await usable_app_role(conn)
            superuser = await conn.fetchval(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
        if role is None and superuser:
            log.warning(
                "no usable role %s: as a superuser this server bypasses row-level security",
                APP_ROLE,
            )
        return cls(pool, role)

    @asynccontextmanager
    async def as_user(self, user_id: str) -> AsyncIterator[Conn]:
        async with (
            self.pool.acquire() as conn,
            scoped(conn, user_id=user_id, role=self.app_role) as c,
        ):
            yield c

    @asynccontextmanager
    async def as_system(self) -> AsyncIterator[Conn]:
        async with self.pool.acquire() as conn, scoped(conn, system=True, role=self.app_role) as c:
            yield c

    async def close(self) -> None:
        await self.pool.close()


def as_database(source: asyncpg.Pool | Database) -> Database:
    """A ``Database`` for ``source`` (a bare pool gets no role: it runs as its login)."""
    return source if isinstance(source, Database) else Database(source)
