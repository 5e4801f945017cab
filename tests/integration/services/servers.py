"""Helpers for the services tests: find the server processes a provider started, query them.

Everything here reads the real system (``/proc``, the owner registry, real connections).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from golden_path.services.processes import is_alive
from golden_path.services.registry import OwnerRecord, registry_dir

POSTGRES_COMM = "postgres"
REDIS_COMM = "redis-server"


@dataclass(frozen=True)
class ServerPid:
    pid: int
    start_time: int | None


def comm(pid: int) -> str:
    """The kernel's name for ``pid`` (empty when it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def uid_of(pid: int) -> int:
    """The real uid of ``pid``, from the ``Uid:`` line of ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for pid {pid}")


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` right now."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def owner_record(owner_pid: int | None = None) -> OwnerRecord:
    """The registry record of ``owner_pid`` (default: this process); it must exist."""
    pid = os.getpid() if owner_pid is None else owner_pid
    paths = sorted(registry_dir().glob(f"{pid}-*.json"))
    assert len(paths) == 1, f"expected one registry record for owner {pid}, found {paths}"
    record = OwnerRecord.load(paths[0])
    assert record is not None, f"unreadable registry record {paths[0]}"
    return record


def servers_of(record: OwnerRecord) -> dict[str, ServerPid]:
    """The record's server processes by name: ``postgres`` and ``redis-server``."""
    return {comm(p.pid): ServerPid(p.pid, p.start_time) for p in record.processes}


def gone(server: ServerPid) -> bool:
    return not is_alive(server.pid, server.start_time)


async def pg_roundtrip(dsn: str) -> list[tuple[int, str]]:
    """Create a table, insert two rows and read them back."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE roundtrip (id int PRIMARY KEY, note text NOT NULL)")
        await conn.executemany(
            "INSERT INTO roundtrip VALUES ($1, $2)", [(1, "first"), (2, "second")]
        )
        rows = await conn.fetch("SELECT id, note FROM roundtrip ORDER BY id")
        await conn.execute("DROP TABLE roundtrip")
    finally:
        await conn.close()
    return [(int(r["id"]), str(r["note"])) for r in rows]


async def pg_fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def redis_roundtrip(url: str, key: str) -> bytes | None:
    """SET then GET ``key``; the key is deleted again."""
    client = aioredis.Redis.from_url(url)
    try:
        await client.set(key, b"value-1")
        value = await client.get(key)
        await client.delete(key)
    finally:
        await client.aclose()
    assert value is None or isinstance(value, bytes)
    return value


def postgres_answers(dsn: str) -> bool:
    """Whether PostgreSQL at ``dsn`` answers a query right now (for sync tests)."""

    async def check() -> bool:
        try:
            return await pg_fetchval(dsn, "SELECT 1") == 1
        except (OSError, asyncpg.PostgresError):
            return False

    return asyncio.run(check())


def redis_answers(url: str) -> bool:
    """Whether Redis at ``url`` answers PING right now (for sync tests)."""

    async def check() -> bool:
        client = aioredis.Redis.from_url(url, socket_timeout=5)
        try:
            return bool(await client.ping())
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    return asyncio.run(check())
