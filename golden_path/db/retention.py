"""History retention: what each tier keeps, and the purge that removes the rest.

A user's messages, runs (with their events) and idle threads older than their
tier's ``retention_days`` are deleted. The usage ledger is kept: it is what was
billed, not conversation history. Runs still in progress are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from golden_path.db.pool import Conn
from golden_path.tiers import TIER_LIMITS

_CUTOFFS = """
    SELECT u.id AS user_id, $1::timestamptz - make_interval(days => r.days) AS cutoff
    FROM users u JOIN unnest($2::text[], $3::int[]) AS r(tier, days) ON r.tier = u.tier
"""


@dataclass(frozen=True, slots=True)
class PurgeResult:
    messages: int
    runs: int
    events: int
    threads: int

    def to_dict(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "runs": self.runs,
            "events": self.events,
            "threads": self.threads,
        }


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def purge(conn: Conn, now: datetime) -> PurgeResult:
    """Delete everything older than each user's tier retention, as of ``now``, atomically."""
    tiers = [tier.value for tier in TIER_LIMITS]
    days = [limits.retention_days for limits in TIER_LIMITS.values()]
    async with conn.transaction():
        await conn.execute(
            f"CREATE TEMP TABLE purge_cutoffs ON COMMIT DROP AS {_CUTOFFS}", now, tiers, days
        )
        messages = await conn.execute(
            "DELETE FROM messages m USING purge_cutoffs c "
            "WHERE m.user_id = c.user_id AND m.created_at < c.cutoff"
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id "
            "JOIN purge_cutoffs c ON c.user_id = r.user_id "
            "WHERE r.created_at < c.cutoff AND r.status <> 'running'"
        )
        runs = await conn.execute(
            "DELETE FROM runs r USING purge_cutoffs c "
            "WHERE r.user_id = c.user_id AND r.created_at < c.cutoff AND r.status <> 'running'"
        )
        threads = await conn.execute(
            "DELETE FROM threads t USING purge_cutoffs c "
            "WHERE t.user_id = c.user_id AND t.last_activity_at < c.cutoff "
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id) "
            "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.id)"
        )
    return PurgeResult(_count(messages), _count(runs), int(events or 0), _count(threads))
