"""The usage ledger: one row per finished run (billed exactly once), summed by UTC day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from golden_path.db.pool import Conn
from golden_path.ids import RunID, UserID


async def bill(
    conn: Conn,
    *,
    run_id: RunID,
    user_id: UserID,
    day: date,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
) -> bool:
    """Record the run's usage; ``False`` if it was billed already (nothing changes)."""
    status = await conn.execute(
        "INSERT INTO usage_ledger (run_id, user_id, day, input_tokens, output_tokens, cost_usd) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id) DO NOTHING",
        run_id,
        user_id,
        day,
        input_tokens,
        output_tokens,
        Decimal(str(cost_usd)),
    )
    return bool(status.endswith(" 1"))


async def by_day(
    conn: Conn, user_id: UserID, since: date | None, until: date | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT day, count(*) AS runs, sum(input_tokens) AS input_tokens, "
        "sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd "
        "FROM usage_ledger WHERE user_id = $1 "
        "AND ($2::date IS NULL OR day >= $2) AND ($3::date IS NULL OR day <= $3) "
        "GROUP BY day ORDER BY day",
        user_id,
        since,
        until,
    )
    return [
        {
            "day": r["day"].isoformat(),
            "runs": int(r["runs"]),
            "input_tokens": int(r["input_tokens"]),
            "output_tokens": int(r["output_tokens"]),
            "cost_usd": float(r["cost_usd"]),
        }
        for r in rows
    ]
