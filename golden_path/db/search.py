"""Full-text search over a user's own messages (PostgreSQL ``tsvector`` with a GIN index)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from golden_path.db.messages import message_dict
from golden_path.db.pool import Conn
from golden_path.ids import UserID


@dataclass(frozen=True, slots=True)
class SearchFilters:
    query: str
    thread_id: str | None = None
    role: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(
    conn: Conn, user_id: UserID, filters: SearchFilters, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Ranked matches among the user's messages (best first, then newest)."""
    rows = await conn.fetch(
        "SELECT m.*, ts_rank(m.search, q) AS rank "
        "FROM messages m, websearch_to_tsquery('english', translate($2, '/\\', '  ')) q "
        "WHERE m.user_id = $1 AND m.search @@ q "
        "AND ($3::text IS NULL OR m.thread_id = $3) "
        "AND ($4::text IS NULL OR m.role = $4) "
        "AND ($5::timestamptz IS NULL OR m.created_at >= $5) "
        "AND ($6::timestamptz IS NULL OR m.created_at < $6) "
        "ORDER BY rank DESC, m.created_at DESC, m.id DESC LIMIT $7 OFFSET $8",
        user_id,
        filters.query,
        filters.thread_id,
        filters.role,
        filters.since,
        filters.until,
        limit,
        offset,
    )
    return [{**message_dict(r), "rank": round(float(r["rank"]), 6)} for r in rows]
