"""Conversations, messages and tool calls in PostgreSQL (migrations/*.sql), through asyncpg."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    # A connection of its own, or one borrowed from a pool: both work here.
    Conn: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]


class NotYours(Exception):
    """The conversation belongs to another customer (answered as if it did not exist)."""


async def open_conversation(conn: Conn, conversation_id: str, customer: str, plan: str) -> None:
    """Start the conversation, or continue it if it is ``customer``'s own."""
    owner = await conn.fetchval(
        "INSERT INTO conversations (id, customer, plan) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET plan = EXCLUDED.plan "
        "WHERE conversations.customer = EXCLUDED.customer RETURNING customer",
        conversation_id,
        customer,
        plan,
    )
    if owner is None:  # the id exists and is someone else's: the update did not apply
        raise NotYours(conversation_id)


async def add_message(conn: Conn, conversation_id: str, run_id: str, role: str, text: str) -> None:
    await conn.execute(
        "INSERT INTO messages (conversation_id, run_id, role, content) VALUES ($1, $2, $3, $4)",
        conversation_id,
        run_id,
        role,
        text,
    )


async def record_tool_call(
    conn: Conn,
    conversation_id: str,
    run_id: str,
    tool_call_id: str,
    tool: str,
    arguments: dict[str, Any],
    *,
    ok: bool,
    result: str,
) -> None:
    await conn.execute(
        "INSERT INTO tool_calls"
        " (conversation_id, run_id, tool_call_id, tool, arguments, ok, result)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
        conversation_id,
        run_id,
        tool_call_id,
        tool,
        json.dumps(arguments),
        ok,
        result,
    )


async def history(conn: Conn, conversation_id: str, customer: str) -> dict[str, Any] | None:
    """The conversation as its customer sees it, or None if it is not theirs."""
    plan = await conn.fetchval(
        "SELECT plan FROM conversations WHERE id = $1 AND customer = $2", conversation_id, customer
    )
    if plan is None:
        return None
    messages = await conn.fetch(
        "SELECT run_id, role, content FROM messages WHERE conversation_id = $1 ORDER BY id",
        conversation_id,
    )
    calls = await conn.fetch(
        "SELECT run_id, tool, arguments, ok, result FROM tool_calls "
        "WHERE conversation_id = $1 ORDER BY id",
        conversation_id,
    )
    return {
        "id": conversation_id,
        "plan": plan,
        "messages": [dict(m) for m in messages],
        "tool_calls": [{**dict(c), "arguments": json.loads(c["arguments"])} for c in calls],
    }
