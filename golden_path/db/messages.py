"""The ``messages`` table: what the user said and what the agent answered, per thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from golden_path.db.pool import Conn
from golden_path.db.threads import _iso
from golden_path.ids import MessageID, RunID, ThreadID, UserID
from golden_path.protocol import MessageRole


async def insert(
    conn: Conn,
    *,
    user_id: UserID,
    thread_id: ThreadID,
    role: MessageRole,
    content: str,
    run_id: RunID | None = None,
    message_id: MessageID | None = None,
) -> MessageID:
    message_id = message_id or MessageID.new()
    await conn.execute(
        "INSERT INTO messages (id, user_id, thread_id, run_id, role, content) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        message_id,
        user_id,
        thread_id,
        run_id,
        role,
        content,
    )
    return message_id


def message_dict(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "message_id": row["id"],
        "thread_id": row["thread_id"],
        "run_id": row["run_id"],
        "role": row["role"],
        "content": row["content"],
        "created_at": _iso(row["created_at"]),
    }


async def for_thread(conn: Conn, user_id: UserID, thread_id: ThreadID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM messages WHERE thread_id = $1 AND user_id = $2 ORDER BY created_at, id",
        thread_id,
        user_id,
    )
    return [message_dict(r) for r in rows]


MessageKey = tuple[datetime, str]


async def page_for_thread(
    conn: Conn,
    user_id: UserID,
    thread_id: ThreadID,
    *,
    limit: int,
    after: MessageKey | None = None,
) -> list[tuple[dict[str, Any], MessageKey]]:
    """Up to ``limit`` of the thread's messages, oldest first, after the keyset ``after``.

    Each comes with its key (``created_at`` at full precision, id) for the next page.
    """
    if after is None:
        rows = await conn.fetch(
            "SELECT * FROM messages WHERE thread_id = $1 AND user_id = $2 "
            "ORDER BY created_at, id LIMIT $3",
            thread_id,
            user_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            "SELECT * FROM messages WHERE thread_id = $1 AND user_id = $2 "
            "AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5",
            thread_id,
            user_id,
            after[0],
            after[1],
            limit,
        )
    return [(message_dict(r), (r["created_at"], r["id"])) for r in rows]
