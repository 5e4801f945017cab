"""The ``events`` table: each user's stream of run events, numbered by ``seq``.

``append`` takes the next number from ``users.last_seq`` with a row lock, so
numbers are unique and gap-free per user whichever process writes, and an
event with a higher number is never committed before a lower one. ``append_many``
does the same for a batch in one statement (an import, or a test's long history).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from golden_path.db.pool import Conn
from golden_path.ids import EventID, RunID, UserID


async def append(
    conn: Conn, user_id: UserID, run_id: RunID, event: dict[str, Any]
) -> dict[str, Any]:
    """Persist ``event`` (without ``seq``) as the user's next event; return it with its ``seq``."""
    # One round trip: take the next number under the user's row lock, and store the event
    # with it (the payload gets its seq inside the same statement).
    seq = await conn.fetchval(
        "WITH next AS ("
        " UPDATE users SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq)"
        " INSERT INTO events (user_id, seq, event_id, run_id, type, payload)"
        " SELECT $1, next.last_seq, $2, $3, $4,"
        "        jsonb_set($5::jsonb, '{seq}', to_jsonb(next.last_seq))"
        " FROM next RETURNING seq",
        user_id,
        EventID(event["event_id"]),
        run_id,
        event["type"],
        event,
    )
    if seq is None:
        raise LookupError(f"no user {user_id}")
    return {**event, "seq": int(seq)}


async def append_many(
    conn: Conn, user_id: UserID, batch: Sequence[tuple[RunID, dict[str, Any]]]
) -> list[int]:
    """Persist each ``(run_id, event)`` of ``batch`` (events without ``seq``), in order, as
    the user's next events, under one row lock and in one statement; return their seqs."""
    if not batch:
        return []
    seqs = await conn.fetch(
        "WITH next AS ("
        " UPDATE users SET last_seq = last_seq + cardinality($2::text[])"
        " WHERE id = $1 RETURNING last_seq - cardinality($2::text[]) AS base)"
        " INSERT INTO events (user_id, seq, event_id, run_id, type, payload)"
        " SELECT $1, next.base + e.n, e.event_id, e.run_id, e.type,"
        "        jsonb_set(e.payload, '{seq}', to_jsonb(next.base + e.n))"
        " FROM next, unnest($2::text[], $3::text[], $4::text[], $5::jsonb[])"
        "      WITH ORDINALITY AS e(event_id, run_id, type, payload, n)"
        " RETURNING seq",
        user_id,
        [EventID(event["event_id"]) for _, event in batch],
        [run_id for run_id, _ in batch],
        [event["type"] for _, event in batch],
        [event for _, event in batch],
    )
    if not seqs:
        raise LookupError(f"no user {user_id}")
    return sorted(int(r["seq"]) for r in seqs)


async def after(
    conn: Conn, user_id: UserID, after_seq: int, limit: int = 10_000
) -> list[dict[str, Any]]:
    """The user's events with ``seq > after_seq``, in order."""
    rows = await conn.fetch(
        "SELECT payload FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        user_id,
        after_seq,
        limit,
    )
    return [r["payload"] for r in rows]


async def between(
    conn: Conn, user_id: UserID, after_seq: int, upto_seq: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM events WHERE user_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
        user_id,
        after_seq,
        upto_seq,
    )
    return [r["payload"] for r in rows]


async def for_run(conn: Conn, user_id: UserID, run_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM events WHERE user_id = $1 AND run_id = $2 ORDER BY seq",
        user_id,
        run_id,
    )
    return [r["payload"] for r in rows]
