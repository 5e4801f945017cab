"""Admitting a user message as a run: every tier limit that PostgreSQL decides, in one transaction.

The user's row is locked for the transaction, so two messages of one user
(on any node) are admitted one after the other: the quota and concurrency
counts they see are exact. A message that is refused writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from golden_path.db import messages, runs, threads, users
from golden_path.db.pool import Conn
from golden_path.ids import MessageID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import ErrorCode, MessageRole
from golden_path.server.clock import start_of_utc_day
from golden_path.server.refusal import Refusal
from golden_path.tiers import TIER_ORDER, Tier


@dataclass(frozen=True, slots=True)
class Admitted:
    run: runs.Run
    created_thread: bool


@dataclass(frozen=True, slots=True)
class Duplicate:
    run: runs.Run


def next_tier(tier: Tier) -> Tier | None:
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[index + 1] if index + 1 < len(TIER_ORDER) else None


def quota_upgrade(tier: Tier) -> dict[str, str] | None:
    target = next_tier(tier)
    if target is None:
        return None
    return {
        "required_tier": target.value,
        "feature": "runs_per_day",
        "message": (
            f"You have used all {tier.limits.runs_per_day} runs of the {tier.value} plan today. "
            f"Upgrade to {target.value} for {target.limits.runs_per_day} runs a day."
        ),
    }


async def admit(
    conn: Conn,
    *,
    user_id: UserID,
    tier: Tier,
    content: str,
    thread_id: str | None,
    request_id: RequestID,
    node_id: str,
    now: datetime,
    create_thread: bool = False,
) -> Admitted | Duplicate | Refusal:
    """Admit ``content`` as a run of ``thread_id`` (None: a new thread).

    ``create_thread``: a ``thread_id`` the user has no thread of is created with that id
    (AG-UI's client-chosen threads, see ``server.agui.inputs``) instead of refused.
    """
    async with conn.transaction():
        user = await users.lock(conn, user_id)
        if user is None:
            return Refusal(ErrorCode.UNAVAILABLE, "the account no longer exists", retryable=False)
        earlier = await runs.by_request(conn, user_id, request_id)
        if earlier is not None:
            return Duplicate(earlier)
        used_today = await runs.count_since(conn, user_id, start_of_utc_day(now))
        if used_today >= tier.limits.runs_per_day:
            return Refusal(
                ErrorCode.QUOTA_EXCEEDED,
                f"all {tier.limits.runs_per_day} runs of today are used (resets at 00:00 UTC)",
                upgrade=quota_upgrade(tier),
            )
        running = await runs.count_running(conn, user_id)
        if running >= tier.limits.concurrent_runs:
            return Refusal(
                ErrorCode.CONCURRENCY_LIMIT,
                f"{running} runs are in progress, the {tier.value} plan allows "
                f"{tier.limits.concurrent_runs} at once",
            )
        if thread_id is None:
            thread = await threads.create(conn, user_id, threads.title_from(content))
            created = True
        else:
            found = await threads.get(conn, user_id, thread_id)
            if found is None and create_thread:
                title = threads.title_from(content)
                found = await threads.create(conn, user_id, title, ThreadID(thread_id))
                created = True
            elif found is None:
                return Refusal(ErrorCode.THREAD_NOT_FOUND, f"no thread {thread_id}")
            else:
                created = False
            if found.archived:
                return Refusal(ErrorCode.THREAD_ARCHIVED, f"thread {thread_id} is archived")
            thread = found
        run_id = RunID.new()
        message_id = await messages.insert(
            conn,
            user_id=user_id,
            thread_id=ThreadID(thread.id),
            role=MessageRole.USER,
            content=content,
            run_id=run_id,
            message_id=MessageID.new(),
        )
        run = await runs.create(
            conn,
            run_id=run_id,
            user_id=user_id,
            thread_id=thread.id,
            request_id=request_id,
            message_id=message_id,
            node_id=node_id,
        )
        await threads.touch(conn, thread.id)
        return Admitted(run=run, created_thread=created)
