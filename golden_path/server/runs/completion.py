"""Recording a run's successful end: one transaction, so a run is never half-finished.

The run's status and usage, its ``agent_completed`` event, the usage-ledger row
(billed exactly once: the run id is the ledger's key) and the agent's answer in
the thread are written together, or not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from golden_path.agent import Completion
from golden_path.db import events, messages, runs, threads, usage
from golden_path.db.pool import Conn
from golden_path.protocol import MessageRole, RunStatus
from golden_path.server.runs.events import RunScope


async def record_completion(
    conn: Conn, scope: RunScope, done: Completion, event: dict[str, Any], day: date
) -> dict[str, Any] | None:
    """Write the run's end in the caller's transaction; the stored event, or ``None`` if the
    run had already ended (cancelled or interrupted elsewhere): then nothing is written."""
    ended = await runs.finish(
        conn,
        scope.run_id,
        status=RunStatus.SUCCEEDED,
        result=done.result,
        input_tokens=done.usage.input_tokens,
        output_tokens=done.usage.output_tokens,
        cost_usd=done.usage.cost_usd,
    )
    if not ended:
        return None
    stored = await events.append(conn, scope.user_id, scope.run_id, event)
    await usage.bill(
        conn,
        run_id=scope.run_id,
        user_id=scope.user_id,
        day=day,
        input_tokens=done.usage.input_tokens,
        output_tokens=done.usage.output_tokens,
        cost_usd=done.usage.cost_usd,
    )
    await messages.insert(
        conn,
        user_id=scope.user_id,
        thread_id=scope.thread_id,
        role=MessageRole.ASSISTANT,
        content=done.final_response,
        run_id=scope.run_id,
    )
    await threads.touch(conn, scope.thread_id)
    return stored
