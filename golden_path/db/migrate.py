"""Versioned schema migrations, applied in order at start, each exactly once.

Migrations are the ``NNNN_name.sql`` files beside this module. Each runs in a
transaction together with its row in ``schema_migrations``; an advisory lock
makes concurrent starters (several server processes) apply each one once.

A starter waits at most ``LOCK_TIMEOUT_S`` for that lock (and for the tables it
reads): a session that holds it and never lets go (a client stuck on a dead network,
a transaction left open) is named in the :class:`MigrationBlocked` error, rather than
leaving the server hanging at start without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from golden_path.db.locks import lock_holders
from golden_path.db.pool import Conn
from golden_path.errors import GoldenPathError

_LOCK_KEY = 7_402_118_311  # any fixed bigint, the same for every starter
LOCK_TIMEOUT_S = 30


class MigrationBlocked(GoldenPathError):
    """The migration lock (or a table it reads) was held by another session too long."""


_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    found: list[Migration] = []
    folder = resources.files("golden_path.db") / "migrations"
    for entry in folder.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


async def applied_versions(conn: Conn) -> list[int]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    return [int(r["version"]) for r in rows]


async def migrate(conn: Conn, lock_timeout_s: int = LOCK_TIMEOUT_S) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now."""
    applied_now: list[int] = []
    await conn.execute(f"SET lock_timeout = '{int(lock_timeout_s)}s'")
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    except asyncpg.LockNotAvailableError:
        raise MigrationBlocked(
            f"the migration lock was not free within {lock_timeout_s} s; locks are held by: "
            + await lock_holders(conn)
        ) from None
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = set(await applied_versions(conn))
        for migration in available_migrations():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied_now.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


async def migrate_dsn(dsn: str, lock_timeout_s: int = LOCK_TIMEOUT_S) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn, lock_timeout_s)
    finally:
        await conn.close()
