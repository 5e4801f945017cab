"""The ``threads`` table: a user's conversations, newest activity first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from golden_path.db.pool import Conn
from golden_path.ids import ThreadID, UserID

TITLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Thread:
    id: ThreadID
    user_id: UserID
    title: str
    archived: bool
    created_at: datetime
    last_activity_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": str(self.id),
            "title": self.title,
            "archived": self.archived,
            "created_at": _iso(self.created_at),
            "last_activity_at": _iso(self.last_activity_at),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _thread(row: asyncpg.Record) -> Thread:
    return Thread(
        id=ThreadID(row["id"]),
        user_id=UserID(row["user_id"]),
        title=row["title"],
        archived=row["archived"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
    )


def title_from(content: str) -> str:
    words = " ".join(content.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


async def create(
    conn: Conn, user_id: UserID, title: str, thread_id: ThreadID | None = None
) -> Thread:
    """A new thread of the user: ``thread_id`` if given (the caller chose it), else a fresh id."""
    row = await conn.fetchrow(
        "INSERT INTO threads (id, user_id, title) VALUES ($1, $2, $3) RETURNING *",
        thread_id or ThreadID.new(),
        user_id,
        title,
    )
    assert row is not None
    return _thread(row)


async def get(conn: Conn, user_id: UserID, thread_id: str) -> Thread | None:
    """The thread if it is this user's; another user's thread is as missing as a missing one."""
    row = await conn.fetchrow(
        "SELECT * FROM threads WHERE id = $1 AND user_id = $2", thread_id, user_id
    )
    return _thread(row) if row else None


async def touch(conn: Conn, thread_id: ThreadID) -> None:
    await conn.execute("UPDATE threads SET last_activity_at = now() WHERE id = $1", thread_id)


async def archive(conn: Conn, user_id: UserID, thread_id: str) -> Thread | None:
    row = await conn.fetchrow(
        "UPDATE threads SET archived = true WHERE id = $1 AND user_id = $2 RETURNING *",
        thread_id,
        user_id,
    )
    return _thread(row) if row else None


async def page(
    conn: Conn,
    user_id: UserID,
    *,
    archived: bool,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[Thread]:
    """One page of the user's threads, newest activity first, after the keyset ``after``."""
    if after is None:
        rows = await conn.fetch(
            "SELECT * FROM threads WHERE user_id = $1 AND archived = $2 "
            "ORDER BY last_activity_at DESC, id DESC LIMIT $3",
            user_id,
            archived,
            limit,
        )
    else:
        rows = await conn.fetch(
            "SELECT * FROM threads WHERE user_id = $1 AND archived = $2 "
            "AND (last_activity_at, id) < ($3, $4) "
            "ORDER BY last_activity_at DESC, id DESC LIMIT $5",
            user_id,
            archived,
            after[0],
            after[1],
            limit,
        )
    return [_thread(r) for r in rows]
