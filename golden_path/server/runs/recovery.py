"""Runs left ``running`` by a server process that died: found at start, ended as ``interrupted``.

Each server process (a *node*) holds a PostgreSQL advisory lock named after its
node id for as long as it lives, on a connection of its own. When a process is
killed, PostgreSQL drops its connection and the lock with it. So at start a
node can tell, without timers or heartbeats, which nodes are gone: their locks
can be taken. Their running runs end with ``agent_error`` ``interrupted``
(retryable), written into each user's stream like any other event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from golden_path.db.errors import DRIVER_ERRORS
from golden_path.db.locks import lock_holders
from golden_path.db.pool import Conn
from golden_path.errors import GoldenPathError

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0  # the lock connection, closed gracefully within this, else dropped
NODE_LOCK_CLASS = 0x60_1D  # the first key of every node lock (the second: hashtext(node_id))
RECONNECT_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)
LOCK_TIMEOUT_S = 10  # for the node lock at start


class NodeLockHeld(GoldenPathError):
    """Another session holds this node's lock: the node cannot start (or restart) as itself."""


RETAKE_ERRORS: tuple[type[BaseException], ...] = (*DRIVER_ERRORS, NodeLockHeld)


async def is_node_alive(conn: Conn, node_id: str) -> bool:
    """Whether the node still holds its lock (taking it and giving it back at once if not)."""
    taken = await conn.fetchval(
        "SELECT pg_try_advisory_lock($1, hashtext($2))", NODE_LOCK_CLASS, node_id
    )
    if taken:
        await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", NODE_LOCK_CLASS, node_id)
    return not taken


async def orphaned_runs(conn: Conn, own_node_id: str) -> list[str]:
    """Ids of runs still ``running`` on nodes that are gone (a run paused for the user's
    approval, §12.1, waits for no node: it is nobody's orphan)."""
    nodes = await conn.fetch(
        "SELECT DISTINCT node_id FROM runs WHERE status = 'running' AND node_id <> $1"
        " AND NOT EXISTS (SELECT 1 FROM interrupts i"
        " WHERE i.run_id = runs.id AND i.answered_by IS NULL)",
        own_node_id,
    )
    dead = [r["node_id"] for r in nodes if not await is_node_alive(conn, r["node_id"])]
    if not dead:
        return []
    rows = await conn.fetch(
        "SELECT id FROM runs WHERE status = 'running' AND node_id = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM interrupts i"
        " WHERE i.run_id = runs.id AND i.answered_by IS NULL)"
        " ORDER BY created_at",
        dead,
    )
    return [r["id"] for r in rows]


class NodeLease:
    """This node's liveness lock, held on a dedicated connection and retaken after an outage."""

    def __init__(self, dsn: str, node_id: str, lock_timeout_s: int = LOCK_TIMEOUT_S) -> None:
        self._dsn = dsn
        self.node_id = node_id
        self._lock_timeout_s = int(lock_timeout_s)
        self._conn: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    async def acquire(self) -> None:
        """Take the lock; :class:`NodeLockHeld` if another session keeps it past
        ``lock_timeout_s`` (another live process with this node id, say)."""
        self._conn = await asyncpg.connect(self._dsn, server_settings={"jit": "off"})
        try:
            await self._conn.execute(f"SET lock_timeout = '{self._lock_timeout_s}s'")
            await self._conn.execute(
                "SELECT pg_advisory_lock($1, hashtext($2))", NODE_LOCK_CLASS, self.node_id
            )
        except asyncpg.LockNotAvailableError:
            holders = await lock_holders(self._conn)
            await self._conn.close(timeout=CLOSE_TIMEOUT_S)
            self._conn = None
            raise NodeLockHeld(
                f"node {self.node_id}: its lock was not free within {self._lock_timeout_s} s "
                f"(is another process running with GOLDEN_PATH_NODE_ID={self.node_id}?); "
                f"locks are held by: {holders}"
            ) from None
        self._conn.add_termination_listener(lambda _: self._lost.set())
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(), name="node-lease")

    async def _keep(self) -> None:
        while True:
            await self._lost.wait()
            self._lost.clear()
            log.warning("node %s: lost its liveness lock connection; retaking it", self.node_id)
            for attempt in range(10_000):
                try:
                    await self.acquire()
                    break
                except RETAKE_ERRORS:  # a driver error, or the old session lingering a while
                    delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                    await asyncio.sleep(delay)

    async def release(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=CLOSE_TIMEOUT_S)
            if not self._conn.is_closed():
                self._conn.terminate()
            self._conn = None
