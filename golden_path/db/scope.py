"""Every server query runs as one tenant (or, rarely, as the system), inside a transaction.

``Database.as_user(user_id)`` borrows a connection, opens a transaction and sets,
for that transaction only, the role the row-level security policies bind
(``golden_path_app``) and the tenant they admit (``golden_path.user_id``). The
policies of migration 0002 then hide every other user's rows, even from a
query that forgot its ``user_id`` filter. ``as_system()`` is for the few
cross-tenant operations: signup, login by email, crash recovery, purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

from golden_path.db.errors import (
    DRIVER_ERRORS,
    DatabaseUnavailable,
    RowSecurityBypassed,
    is_outage,
)
from golden_path.db.pool import Conn, create_pool

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 10.0  # a pool that has not closed by then is terminated
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


_SCOPE_SQL = (
    "SELECT set_config($1, $2, true), set_config($3, $4, true), "
    "CASE WHEN $5::text IS NULL THEN '' ELSE set_config('role', $5, true) END"
)
# What a connection that died under us raises: worth one more try on a fresh one.
CONNECTION_LOST = (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError)
BORROW_ATTEMPTS = 3


async def _set_scope(conn: Conn, user_id: str | None, system: bool, role: str | None) -> None:
    # One round trip: the tenant, the system flag and (SET LOCAL ROLE's equivalent) the role.
    await conn.execute(
        _SCOPE_SQL, TENANT_SETTING, user_id or "", SYSTEM_SETTING, "on" if system else "off", role
    )


@asynccontextmanager
async def scoped(
    conn: Conn, *, user_id: str | None = None, system: bool = False, role: str | None = None
) -> AsyncIterator[Conn]:
    """A transaction on ``conn`` in which the policies admit ``user_id`` (or all, for system)."""
    async with conn.transaction():
        await _set_scope(conn, user_id, system, role)
        yield conn


class Database:
    """The server's pool, handing out tenant-scoped transactions."""

    def __init__(self, pool: asyncpg.Pool, app_role: str | None = None) -> None:
        self.pool = pool
        self.app_role = app_role

    @classmethod
    async def open(cls, dsn: str, size: int, *, require_app_role: bool = False) -> Database:
        """The pool on ``dsn``, running its queries as the app role when the login may.

        A login that bypasses row-level security (a superuser, or ``BYPASSRLS``) and
        cannot become ``golden_path_app`` would see every tenant's rows: with
        ``require_app_role`` (production) that is refused, otherwise warned about.
        """
        pool = await create_pool(dsn, size)
        try:
            async with pool.acquire() as conn:
                role = await usable_app_role(conn)
                bypasses = await conn.fetchval(
                    "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
                )
        except BaseException:
            await pool.close()
            raise
        if role is None and bypasses:
            problem = (
                f"no usable role {APP_ROLE}: this login bypasses row-level security, so "
                "every query would see every tenant's rows"
            )
            if require_app_role:
                await pool.close()
                raise RowSecurityBypassed(
                    f"{problem}; refusing to start in production (create the role with "
                    f"the migrations, as a login that may CREATE ROLE, or GRANT {APP_ROLE} "
                    "to this login)"
                )
            log.warning("%s (development only: production refuses to start)", problem)
        return cls(pool, role)

    def as_user(self, user_id: str) -> AbstractAsyncContextManager[Conn]:
        """A transaction that sees only ``user_id``'s rows.

        Raises :class:`DatabaseUnavailable` (rolled back, nothing written) when PostgreSQL
        cannot do the work; integrity violations pass through (see ``db/errors.py``).
        """
        return self._transaction(user_id=user_id, system=False)

    def as_system(self) -> AbstractAsyncContextManager[Conn]:
        """A transaction that sees every tenant (signup, login, recovery, purge only)."""
        return self._transaction(user_id=None, system=True)

    @asynccontextmanager
    async def _transaction(self, *, user_id: str | None, system: bool) -> AsyncIterator[Conn]:
        """The scoped transaction, with the driver's errors mapped once, here."""
        try:
            async with self._scoped_transaction(user_id=user_id, system=system) as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            if not is_outage(exc):
                raise
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc

    @asynccontextmanager
    async def _scoped_transaction(
        self, *, user_id: str | None, system: bool
    ) -> AsyncIterator[Conn]:
        """Borrow a connection and open the scoped transaction.

        A pooled connection can be dead after PostgreSQL restarted; that shows at the
        first statement, before any work, so a fresh connection is tried instead.
        The server thus recovers from an outage by itself on its next query.
        """
        for attempt in range(BORROW_ATTEMPTS):
            conn = await self.pool.acquire()
            transaction = conn.transaction()
            try:
                await transaction.start()
                await _set_scope(conn, user_id, system, self.app_role)
                break
            except CONNECTION_LOST:
                await self.pool.release(conn)
                if attempt == BORROW_ATTEMPTS - 1:
                    raise
            except BaseException:
                # Cancelled (or failed otherwise) while opening: the connection goes back.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._discard(conn, transaction))
                raise
        try:
            yield conn
        except BaseException:
            # Shielded: a cancelled run must still give its connection back.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._discard(conn, transaction))
            raise
        # Commit and release as one shielded unit: a cancel that lands during COMMIT
        # neither abandons the connection nor releases it while COMMIT still runs.
        await asyncio.shield(self._commit_and_release(conn, transaction))

    async def _commit_and_release(
        self,
        conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record],
        transaction: asyncpg.transaction.Transaction,
    ) -> None:
        try:
            await transaction.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await transaction.rollback()
            raise
        finally:
            await self.pool.release(conn)

    async def _discard(
        self,
        conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record],
        transaction: asyncpg.transaction.Transaction,
    ) -> None:
        with contextlib.suppress(Exception):
            await transaction.rollback()
        await self.pool.release(conn)

    async def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Close the pool gracefully; past ``timeout_s`` (a connection never given back, a
        server that does not answer), terminate it, so a shutdown cannot hang."""
        try:
            await asyncio.wait_for(self.pool.close(), timeout_s)
        except TimeoutError:
            log.warning("the database pool did not close within %g s; terminating it", timeout_s)
            self.pool.terminate()


def as_database(source: asyncpg.Pool | Database) -> Database:
    """A ``Database`` for ``source`` (a bare pool gets no role: it runs as its login)."""
    return source if isinstance(source, Database) else Database(source)
