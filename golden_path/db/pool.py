"""The asyncpg connection pool, with JSON columns decoded to Python values."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _reset(conn: asyncpg.Connection) -> None:
    """What a released connection needs: nothing, unless a transaction was left open.

    Every setting the server makes is transaction-local, so asyncpg's default reset
    (a round trip of RESET ALL, UNLISTEN, advisory unlocks) would be spent on every
    release for nothing.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=0,  # no floor to restore while PostgreSQL is away (and no log spam about it)
        max_size=size,
        init=_init_connection,
        reset=_reset,
        command_timeout=30,
        # asyncpg's type introspection trips PostgreSQL's JIT, which costs ~40 ms a query.
        server_settings={"jit": "off"},
        **kwargs,
    )
    assert pool is not None
    return pool


if TYPE_CHECKING:
    # A connection of its own or one borrowed from the pool: repositories take either.
    Conn: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    )
else:
    Conn = asyncpg.Connection


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection of its own (no pool), with the same JSON codecs as the pool's."""
    conn = await asyncpg.connect(dsn, server_settings={"jit": "off"})
    await _init_connection(conn)
    return conn
