"""Orders in real PostgreSQL, on our migrations: each test in a transaction rolled back
afterwards (gp_db), or in a database of its own where it needs commits (gp_database)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from orders.pricing import Line, OrderError
from orders.store import customer_id, get_order, place_order

from golden_path.services.model import Services

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="an order is stored whole, lines and total, or not at all, and each "
        "customer sees only their own",
        revenue_impact="a half-stored order ships the wrong goods; another customer's order "
        "on screen is a privacy incident",
    ),
]


def new_subject() -> str:
    return f"customer-{uuid.uuid4().hex}"


async def test_the_migrations_made_our_tables(gp_db: asyncpg.Connection) -> None:
    tables = await gp_db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    assert [t["tablename"] for t in tables] == ["customers", "order_items", "orders", "products"]
    assert await gp_db.fetchval("SELECT price_cents FROM products WHERE sku = 'kettle'") == 4900


async def test_an_order_is_stored_with_its_lines_and_total(gp_db: asyncpg.Connection) -> None:
    subject = new_subject()
    order = await place_order(gp_db, subject, "mid", [Line("tea", 2), Line("kettle", 1)])
    assert order.total_cents == (2 * 650 + 4900) * 90 // 100
    stored = await gp_db.fetch(
        "SELECT sku, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY sku",
        order.id,
    )
    assert [tuple(r) for r in stored] == [("kettle", 1, 4900), ("tea", 2, 650)]
    assert await get_order(gp_db, order.id, subject) == order


async def test_a_customer_is_created_once(gp_db: asyncpg.Connection) -> None:
    subject = new_subject()
    first = await place_order(gp_db, subject, "free", [Line("tea", 1)])
    second = await place_order(gp_db, subject, "free", [Line("mug", 1)])
    assert first.id != second.id
    rows = await gp_db.fetchval("SELECT count(*) FROM customers WHERE subject = $1", subject)
    assert rows == 1


async def test_an_order_that_fails_leaves_nothing(gp_db: asyncpg.Connection) -> None:
    subject = new_subject()
    with pytest.raises(OrderError, match="unknown products: sofa"):
        await place_order(gp_db, subject, "free", [Line("tea", 1), Line("sofa", 1)])
    assert await gp_db.fetchval("SELECT count(*) FROM customers WHERE subject = $1", subject) == 0


async def test_another_customers_order_is_not_found(gp_db: asyncpg.Connection) -> None:
    order = await place_order(gp_db, new_subject(), "early", [Line("mug", 1)])
    assert await get_order(gp_db, order.id, new_subject()) is None


async def test_the_schema_refuses_a_line_without_a_product(gp_db: asyncpg.Connection) -> None:
    order = await place_order(gp_db, new_subject(), "free", [Line("tea", 1)])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await gp_db.execute(
            "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) "
            "VALUES ($1, 'sofa', 1, 1)",
            order.id,
        )


async def test_two_first_orders_racing_make_one_customer(gp_database: Services) -> None:
    """Two connections, each committing: what a rolled-back transaction cannot show."""
    subject = new_subject()
    pool = await asyncpg.create_pool(gp_database.postgres_dsn, min_size=2, max_size=2)
    try:

        async def order(sku: str) -> int:
            async with pool.acquire() as conn:
                return (await place_order(conn, subject, "free", [Line(sku, 1)])).id

        ids = await asyncio.gather(order("tea"), order("mug"))
        async with pool.acquire() as conn:
            customers = await conn.fetch("SELECT id FROM customers WHERE subject = $1", subject)
            assert len(customers) == 1
            assert await customer_id(conn, subject) == customers[0]["id"]
            owners = await conn.fetchval(
                "SELECT count(DISTINCT customer_id) FROM orders WHERE id = ANY($1::bigint[])",
                list(ids),
            )
        assert owners == 1
    finally:
        await pool.close()
