"""The support agent: pydantic-ai's OpenAI chat model, two tools, and our plan's rules.

Every tool call is written to ``tool_calls`` (arguments, outcome, failed or not) before
the model hears its result; a tool that cannot do what was asked raises ``ToolFailed``,
so the model is told why and answers the customer, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_ai import Agent, RunContext, ToolFailed
from pydantic_ai.models import Model

from support.plans import refund_limit_cents
from support.store import record_tool_call

if TYPE_CHECKING:
    import asyncpg

# The order book the tools read (a real desk would call the orders service).
ORDERS = {
    "A-1001": {"status": "shipped on 30 November, arriving 3 December", "paid_cents": 4_500},
    "A-1002": {"status": "being packed", "paid_cents": 31_000},
}


@dataclass(frozen=True, slots=True)
class Deps:
    pool: asyncpg.Pool
    conversation_id: str
    run_id: str
    plan: str


async def _recorded(
    ctx: RunContext[Deps], arguments: dict[str, Any], work: Callable[[], Awaitable[str]]
) -> str:
    """Run a tool's ``work`` and store the call, its result or its failure, either way."""
    try:
        result = await work()
    except ToolFailed as failed:
        await _record(ctx, arguments, ok=False, result=failed.message)
        raise
    await _record(ctx, arguments, ok=True, result=result)
    return result


async def _record(
    ctx: RunContext[Deps], arguments: dict[str, Any], *, ok: bool, result: str
) -> None:
    deps = ctx.deps
    async with deps.pool.acquire() as conn:
        await record_tool_call(
            conn,
            deps.conversation_id,
            deps.run_id,
            ctx.tool_call_id or "",
            ctx.tool_name or "",
            arguments,
            ok=ok,
            result=result,
        )


def _order(order_id: str) -> dict[str, Any]:
    order = ORDERS.get(order_id.strip().upper())
    if order is None:
        raise ToolFailed(f"there is no order {order_id!r}")
    return order


async def order_status(ctx: RunContext[Deps], order_id: str) -> str:
    """Where an order is (its id looks like A-1001)."""

    async def work() -> str:
        return f"order {order_id}: {_order(order_id)['status']}"

    return await _recorded(ctx, {"order_id": order_id}, work)


async def refund(ctx: RunContext[Deps], order_id: str, amount_cents: int) -> str:
    """Refund part or all of an order, within what the customer's plan allows."""

    async def work() -> str:
        order = _order(order_id)
        limit = refund_limit_cents(ctx.deps.plan)
        if amount_cents <= 0 or amount_cents > order["paid_cents"]:
            raise ToolFailed(f"{amount_cents} cents is not a refund of order {order_id}")
        if amount_cents > limit:
            raise ToolFailed(
                f"refunds over {limit} cents on the {ctx.deps.plan} plan need a human; "
                "a ticket was not opened"
            )
        return f"refunded {amount_cents} cents of order {order_id}"

    arguments = {"order_id": order_id, "amount_cents": amount_cents}
    return await _recorded(ctx, arguments, work)


def plan_rules(ctx: RunContext[Deps]) -> str:
    plan = ctx.deps.plan
    limit = refund_limit_cents(plan)
    return (
        f"You are the support desk's agent. The customer is on the {plan} plan: you may "
        f"refund up to {limit} cents per order yourself. Look orders up before answering."
    )


def make_agent(model: Model) -> Agent[Deps, str]:
    agent = Agent(model, deps_type=Deps, output_type=str, tools=[order_status, refund])
    agent.instructions(plan_rules)
    return agent
