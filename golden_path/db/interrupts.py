"""The ``interrupts`` table: AG-UI runs paused for the user's approval (protocol §12.1).

A row is written with the ``tool_executing`` event the run paused at, in the same
transaction. It is answered once: :func:`answer` records the answering run's request
id under the row's lock, so a second answer is told apart from a retry of the first.
Row-level security scopes every query to the transaction's user, so another user's
interrupt is indistinguishable from none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from golden_path.db.pool import Conn
from golden_path.ids import InterruptID, RequestID, RunID, ThreadID, ToolCallID, UserID


@dataclass(frozen=True, slots=True)
class Interrupt:
    id: InterruptID
    user_id: UserID
    run_id: RunID
    thread_id: ThreadID
    tool_call_id: ToolCallID
    tool_name: str
    seq: int
    state: dict[str, Any]
    answered_by: str | None  # the answering request's id; '' for a run cancelled while paused
    approved: bool | None


async def insert(
    conn: Conn,
    *,
    interrupt_id: InterruptID,
    user_id: UserID,
    run_id: RunID,
    thread_id: ThreadID,
    tool_call_id: ToolCallID,
    tool_name: str,
    seq: int,
    state: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO interrupts (id, user_id, run_id, thread_id, tool_call_id, tool_name, seq,"
        " state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        interrupt_id,
        user_id,
        run_id,
        thread_id,
        tool_call_id,
        tool_name,
        seq,
        state,
    )


async def locked(conn: Conn, user_id: UserID, interrupt_id: str) -> Interrupt | None:
    """``user_id``'s interrupt ``interrupt_id``, locked until the transaction ends."""
    if not InterruptID.is_valid(interrupt_id):
        return None
    row = await conn.fetchrow(
        "SELECT * FROM interrupts WHERE id = $1 AND user_id = $2 FOR UPDATE",
        interrupt_id,
        user_id,
    )
    if row is None:
        return None
    return Interrupt(
        id=InterruptID(row["id"]),
        user_id=UserID(row["user_id"]),
        run_id=RunID(row["run_id"]),
        thread_id=ThreadID(row["thread_id"]),
        tool_call_id=ToolCallID(row["tool_call_id"]),
        tool_name=row["tool_name"],
        seq=int(row["seq"]),
        state=dict(row["state"]),
        answered_by=row["answered_by"],
        approved=row["approved"],
    )


async def answer(
    conn: Conn, interrupt_id: InterruptID, *, approved: bool, request_id: RequestID
) -> None:
    """Record the answer (the caller holds the row's lock and has checked it is open)."""
    await conn.execute(
        "UPDATE interrupts SET answered_by = $2, approved = $3, answered_at = now()"
        " WHERE id = $1 AND answered_by IS NULL",
        interrupt_id,
        request_id,
        approved,
    )


async def withdraw(conn: Conn, run_id: RunID) -> bool:
    """Close ``run_id``'s open interrupt, if it has one (the run is being cancelled); whether
    it had. Once closed it can no longer be answered."""
    found = await conn.fetchval(
        "UPDATE interrupts SET answered_by = '', approved = false, answered_at = now()"
        " WHERE run_id = $1 AND answered_by IS NULL RETURNING id",
        run_id,
    )
    return found is not None
