"""Orders in PostgreSQL (the schema is migrations/*.sql), through asyncpg."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    # A connection of its own, or one borrowed from a pool: both work here.
    Conn: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]

from orders.pricing import Line, total_cents


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    subject: str
    plan: str
    total_cents: int
    items: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.subject,
            "plan": self.plan,
            "total_cents": self.total_cents,
            "items": [{"sku": sku, "quantity": q} for sku, q in sorted(self.items.items())],
        }


async def customer_id(conn: Conn, subject: str) -> int:
    """The customer's id, created on first use (safe when two orders race for it)."""
    found = await conn.fetchval(
        "INSERT INTO customers (subject) VALUES ($1) ON CONFLICT (subject) DO NOTHING RETURNING id",
        subject,
    )
    if found is None:
        found = await conn.fetchval("SELECT id FROM customers WHERE subject = $1", subject)
    return int(found)


async def place_order(conn: Conn, subject: str, plan: str, lines: list[Line]) -> Order:
    """Price ``lines`` at today's prices and store the order, all or nothing."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT sku, price_cents FROM products WHERE sku = ANY($1::text[])",
            [line.sku for line in lines],
        )
        prices = {row["sku"]: row["price_cents"] for row in rows}
        total = total_cents(lines, prices, plan)  # raises OrderError before any write
        customer = await customer_id(conn, subject)
        order_id = await conn.fetchval(
            "INSERT INTO orders (customer_id, plan, total_cents) VALUES ($1, $2, $3) RETURNING id",
            customer,
            plan,
            total,
        )
        await conn.executemany(
            "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) "
            "VALUES ($1, $2, $3, $4)",
            [(order_id, line.sku, line.quantity, prices[line.sku]) for line in lines],
        )
    return Order(order_id, subject, plan, total, {line.sku: line.quantity for line in lines})


async def get_order(conn: Conn, order_id: int, subject: str) -> Order | None:
    """The order, if it is ``subject``'s (another customer's order is not found)."""
    row = await conn.fetchrow(
        "SELECT o.id, o.plan, o.total_cents FROM orders o JOIN customers c "
        "ON c.id = o.customer_id WHERE o.id = $1 AND c.subject = $2",
        order_id,
        subject,
    )
    if row is None:
        return None
    items = await conn.fetch("SELECT sku, quantity FROM order_items WHERE order_id = $1", order_id)
    return Order(
        row["id"],
        subject,
        row["plan"],
        row["total_cents"],
        {i["sku"]: i["quantity"] for i in items},
    )
