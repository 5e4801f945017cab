"""Conversations and tool calls in real PostgreSQL, on our migrations: each test in a
transaction rolled back afterwards (gp_db)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from support.store import NotYours, add_message, history, open_conversation, record_tool_call

pytestmark = [
    pytest.mark.stage("history"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a customer's conversation and every tool the agent ran for it are kept, "
        "and only they can read or continue it",
        revenue_impact="a refund with no audit trail cannot be checked; another customer's "
        "conversation on screen is a privacy incident",
    ),
]


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


async def test_a_conversation_keeps_its_messages_and_tool_calls_in_order(
    gp_db: asyncpg.Connection,
) -> None:
    thread, customer = new_id("thread"), new_id("customer")
    await open_conversation(gp_db, thread, customer, "starter")
    await add_message(gp_db, thread, "r1", "customer", "refund A-1001")
    await record_tool_call(
        gp_db, thread, "r1", "call-1", "refund", {"order_id": "A-1001"}, ok=False, result="no"
    )
    await add_message(gp_db, thread, "r1", "agent", "I cannot.")

    found = await history(gp_db, thread, customer)

    assert found is not None
    assert [(m["role"], m["content"]) for m in found["messages"]] == [
        ("customer", "refund A-1001"),
        ("agent", "I cannot."),
    ]
    assert found["tool_calls"] == [
        {
            "run_id": "r1",
            "tool": "refund",
            "arguments": {"order_id": "A-1001"},
            "ok": False,
            "result": "no",
        }
    ]


async def test_another_customer_can_neither_continue_nor_read_a_conversation(
    gp_db: asyncpg.Connection,
) -> None:
    thread, owner = new_id("thread"), new_id("customer")
    await open_conversation(gp_db, thread, owner, "team")
    with pytest.raises(NotYours):
        await open_conversation(gp_db, thread, new_id("customer"), "team")
    assert await history(gp_db, thread, new_id("customer")) is None
    await open_conversation(gp_db, thread, owner, "business")  # the owner continues it
    found = await history(gp_db, thread, owner)
    assert found is not None
    assert found["plan"] == "business"


async def test_a_tool_call_is_recorded_once_per_conversation(gp_db: asyncpg.Connection) -> None:
    thread = new_id("thread")
    await open_conversation(gp_db, thread, new_id("customer"), "team")
    await record_tool_call(gp_db, thread, "r1", "call-1", "order_status", {}, ok=True, result="x")
    with pytest.raises(asyncpg.UniqueViolationError):
        await record_tool_call(
            gp_db, thread, "r1", "call-1", "order_status", {}, ok=True, result="x"
        )
