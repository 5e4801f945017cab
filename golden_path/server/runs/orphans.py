"""Ending, at a node's start, the runs that died with their node (``recovery`` finds them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from golden_path.db.locks import lock_holders
from golden_path.db.scope import Database
from golden_path.ids import RequestID, RunID, ThreadID, UserID
from golden_path.server.runs import recovery
from golden_path.server.runs.events import RunScope

log = logging.getLogger(__name__)


async def end_orphans(
    db: Database,
    node_id: str,
    agent_name: str,
    timeout_s: float,
    end: Callable[[RunScope], Awaitable[bool]],
) -> int:
    """End each run of a stopped node with ``end`` (within ``timeout_s`` each); how many
    this call ended."""
    async with db.as_system() as conn:
        run_ids = await recovery.orphaned_runs(conn, node_id)
    ended = 0
    for run_id in run_ids:
        try:
            async with asyncio.timeout(timeout_s):
                ended += await _end_one(db, run_id, agent_name, end)
        except TimeoutError:
            # Its rows are locked by a session that does not let go: a start must not
            # wait for it. The next start (on any node) tries again.
            async with db.as_system() as conn:
                holders = await lock_holders(conn)
            log.warning(
                "run %s of a stopped node could not be ended within %g s; locks are held by: %s",
                run_id,
                timeout_s,
                holders,
            )
    if ended:
        log.warning("ended %d runs interrupted by a stopped server", ended)
    return ended


async def _end_one(
    db: Database, run_id: str, agent_name: str, end: Callable[[RunScope], Awaitable[bool]]
) -> int:
    """End one run of a stopped node: 1 if this call ended it."""
    async with db.as_system() as conn:
        row = await conn.fetchrow(
            "SELECT user_id, thread_id, request_id FROM runs WHERE id = $1", run_id
        )
    if row is None:
        return 0
    scope = RunScope(
        user_id=UserID(row["user_id"]),
        thread_id=ThreadID(row["thread_id"]),
        run_id=RunID(run_id),
        request_id=RequestID(row["request_id"]),
        agent_name=agent_name,
    )
    return 1 if await end(scope) else 0
