"""Pausing a run for the user's approval, and answering the pause (protocol §12.1).

An AG-UI run whose next tool is priced above the tier's ``approval_above_usd``
pauses: its ``tool_executing`` event carries ``approval_required`` and is written
with an ``interrupts`` row in one transaction; the run stays ``running`` and its
task ends. The row keeps what the run needs to go on (the message, the tier and
usage history the agent planned with, the decisions so far, how many steps were
emitted), so the run that answers it continues the same work, on any node.

:func:`answer` is the only way to continue a paused run: the interrupt is
looked up as the answering user's (row-level security: another user's is
unknown), on the thread the request names, still open, its run still running;
the answer and the run's new node are recorded under the row's lock, so two
answers cannot both continue it. The same request again replays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from golden_path.agent import AgentRequest, DailyUsage, ToolCall
from golden_path.agent.steps import TOOL_LABELS
from golden_path.db import events, interrupts, runs
from golden_path.db.pool import Conn
from golden_path.ids import InterruptID, RequestID, ThreadID, ToolCallID, UserID
from golden_path.protocol import APPROVAL_FIELD, ErrorCode, RunStatus
from golden_path.server.refusal import Refusal
from golden_path.server.runs.events import RunScope
from golden_path.tiers import Tier, Tool

__all__ = ["Answered", "Continuation", "answer", "approval_fields", "pause"]


@dataclass(frozen=True, slots=True)
class Continuation:
    """What a paused run needs to go on: the agent's request with the user's decision, how
    many of its steps were already emitted, and the paused tool call's id."""

    request: AgentRequest
    emitted: int
    tool: Tool
    tool_call_id: ToolCallID


@dataclass(frozen=True, slots=True)
class Answered:
    """An interrupt answered by ``request_id``: the run to follow after ``seq``;
    ``continuation`` is ``None`` when this request had answered it before (a replay)."""

    run: runs.Run
    seq: int
    continuation: Continuation | None


def approval_fields(interrupt_id: InterruptID, call: ToolCall, tier: Tier) -> dict[str, Any]:
    """The ``approval_required`` field of the ``tool_executing`` event ``call`` pauses at."""
    assert call.approval is not None
    tool, cost_usd, limit_usd = call.tool, call.approval.cost_usd, call.approval.limit_usd
    return {
        APPROVAL_FIELD: {
            "interrupt_id": str(interrupt_id),
            "cost_usd": cost_usd,
            "limit_usd": limit_usd,
            "message": (
                f"{TOOL_LABELS[tool]} costs ${cost_usd:.2f} a call, above the "
                f"${limit_usd:.2f} the {tier.value} plan runs without asking. Approve it?"
            ),
        }
    }


def _state(request: AgentRequest, emitted: int) -> dict[str, Any]:
    return {
        "content": request.content,
        "tier": request.tier.value,
        "history": [
            [d.day.isoformat(), d.runs, d.input_tokens, d.output_tokens, d.cost_usd]
            for d in request.history
        ],
        "decisions": [[tool.value, approved] for tool, approved in request.decisions],
        "emitted": emitted,
    }


def _continuation(row: interrupts.Interrupt, approved: bool) -> Continuation:
    state, tool = row.state, Tool(row.tool_name)
    history = tuple(
        DailyUsage(
            day=date.fromisoformat(day),
            runs=int(count),
            input_tokens=int(tokens_in),
            output_tokens=int(tokens_out),
            cost_usd=float(cost),
        )
        for day, count, tokens_in, tokens_out, cost in state["history"]
    )
    decisions = tuple((Tool(t), bool(a)) for t, a in state["decisions"])
    request = AgentRequest(
        content=str(state["content"]),
        tier=Tier(state["tier"]),
        history=history,
        ask_approval=True,
        decisions=(*decisions, (tool, approved)),
    )
    return Continuation(request, int(state["emitted"]), tool, row.tool_call_id)


async def pause(
    conn: Conn,
    scope: RunScope,
    event: dict[str, Any],
    *,
    request: AgentRequest,
    emitted: int,
) -> dict[str, Any]:
    """Write the pausing ``tool_executing`` ``event`` and its interrupt (one transaction)."""
    async with conn.transaction():
        stored = await events.append(conn, scope.user_id, scope.run_id, event)
        await interrupts.insert(
            conn,
            interrupt_id=InterruptID(event[APPROVAL_FIELD]["interrupt_id"]),
            user_id=scope.user_id,
            run_id=scope.run_id,
            thread_id=scope.thread_id,
            tool_call_id=ToolCallID(event["tool_call_id"]),
            tool_name=str(event["tool_name"]),
            seq=int(stored["seq"]),
            state=_state(request, emitted),
        )
    return stored


def _invalid(problem: str, field: str = "resume[0].interruptId") -> Refusal:
    return Refusal(ErrorCode.INVALID_MESSAGE, problem, [{"field": field, "problem": problem}])


async def answer(
    conn: Conn,
    *,
    user_id: UserID,
    interrupt_id: str,
    approved: bool,
    request_id: RequestID,
    thread_id: ThreadID,
    node_id: str,
) -> Answered | Refusal:
    """Answer ``user_id``'s interrupt, or say clearly why not (nothing is written then)."""
    async with conn.transaction():
        row = await interrupts.locked(conn, user_id, interrupt_id)
        if row is None:
            return _invalid(f"no interrupt {interrupt_id!r} of this user")
        if row.thread_id != thread_id:
            return _invalid(f"interrupt {interrupt_id} paused a run of another thread", "threadId")
        run = await runs.get(conn, user_id, row.run_id)
        if run is None:
            return _invalid(f"no interrupt {interrupt_id!r} of this user")
        if row.answered_by == request_id:
            return Answered(run, row.seq, None)  # the same request again: a replay
        if row.answered_by:  # by another request ('' is a run cancelled while it waited)
            return _invalid(f"interrupt {interrupt_id} was answered already")
        if run.status != RunStatus.RUNNING or row.answered_by is not None:
            return _invalid(f"the run of interrupt {interrupt_id} ended ({run.status.value})")
        await interrupts.answer(conn, row.id, approved=approved, request_id=request_id)
        await conn.execute("UPDATE runs SET node_id = $2 WHERE id = $1", row.run_id, node_id)
        return Answered(run, row.seq, _continuation(row, approved))
