"""The ``runs`` table: one row per accepted user message, from admission to its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from golden_path.db.pool import Conn
from golden_path.db.threads import _iso
from golden_path.ids import MessageID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import RunStatus


@dataclass(frozen=True, slots=True)
class Run:
    id: RunID
    user_id: UserID
    thread_id: ThreadID
    request_id: RequestID
    message_id: MessageID
    status: RunStatus
    result: dict[str, Any] | None
    error_code: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    created_at: datetime
    finished_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": str(self.id),
            "thread_id": str(self.thread_id),
            "request_id": str(self.request_id),
            "message_id": str(self.message_id),
            "status": self.status.value,
            "result": self.result,
            "error_code": self.error_code,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cost_usd": self.cost_usd,
            },
            "created_at": _iso(self.created_at),
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
        }


def _run(row: asyncpg.Record) -> Run:
    return Run(
        id=RunID(row["id"]),
        user_id=UserID(row["user_id"]),
        thread_id=ThreadID(row["thread_id"]),
        request_id=RequestID(row["request_id"]),
        message_id=MessageID(row["message_id"]),
        status=RunStatus(row["status"]),
        result=row["result"],
        error_code=row["error_code"],
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cost_usd=float(row["cost_usd"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def create(
    conn: Conn,
    *,
    run_id: RunID,
    user_id: UserID,
    thread_id: ThreadID,
    request_id: RequestID,
    message_id: MessageID,
    node_id: str,
) -> Run:
    row = await conn.fetchrow(
        "INSERT INTO runs (id, user_id, thread_id, request_id, message_id, node_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        run_id,
        user_id,
        thread_id,
        request_id,
        message_id,
        node_id,
    )
    assert row is not None
    return _run(row)


async def get(conn: Conn, user_id: UserID, run_id: str) -> Run | None:
    row = await conn.fetchrow("SELECT * FROM runs WHERE id = $1 AND user_id = $2", run_id, user_id)
    return _run(row) if row else None


async def by_request(conn: Conn, user_id: UserID, request_id: str) -> Run | None:
    row = await conn.fetchrow(
        "SELECT * FROM runs WHERE user_id = $1 AND request_id = $2", user_id, request_id
    )
    return _run(row) if row else None


async def count_running(conn: Conn, user_id: UserID) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM runs WHERE user_id = $1 AND status = 'running'", user_id
    )
    return int(value or 0)


async def count_since(conn: Conn, user_id: UserID, since: datetime) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM runs WHERE user_id = $1 AND created_at >= $2", user_id, since
    )
    return int(value or 0)


async def finish(
    conn: Conn,
    run_id: RunID,
    *,
    status: RunStatus,
    result: dict[str, Any] | None = None,
    error_code: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float = 0.0,
) -> bool:
    """End a running run; ``False`` if it had ended already (a run ends once)."""
    outcome = await conn.execute(
        "UPDATE runs SET status = $2, result = $3, error_code = $4, input_tokens = $5, "
        "output_tokens = $6, cost_usd = $7, finished_at = now() "
        "WHERE id = $1 AND status = 'running'",
        run_id,
        status.value,
        result,
        error_code,
        input_tokens,
        output_tokens,
        Decimal(str(cost_usd)),
    )
    return bool(outcome.endswith(" 1"))
