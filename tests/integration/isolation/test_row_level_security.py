"""Tenant isolation in PostgreSQL itself: a query that forgets its user filter still sees one user.

These tests go through the server's own connection setup (``Database.open`` and
its ``as_user`` transactions), so they prove what the running server gets.
"""

import pytest

from golden_path.db import messages, threads, users
from golden_path.db.scope import APP_ROLE, Database
from golden_path.ids import UserID

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="enterprise",
        goal="retention",
        value_impact="A forgotten WHERE user_id clause cannot leak one customer's "
        "conversations to another: the database refuses the rows",
        revenue_impact="A cross-tenant leak ends enterprise contracts; this closes "
        "the most common way it happens",
    ),
]

TENANT_TABLES = ("users", "threads", "runs", "messages", "events", "usage_ledger")


@pytest.fixture
async def db(gp_services):
    database = await Database.open(gp_services.postgres_dsn, size=3)
    yield database
    await database.close()


async def _user_with_thread(db: Database, content: str) -> tuple[UserID, str]:
    async with db.as_system() as conn:
        user = await users.create(conn, f"{UserID.new()}@rls.test", "hash")
    async with db.as_user(user.id) as conn:
        thread = await threads.create(conn, user.id, "t")
        await messages.insert(
            conn, user_id=user.id, thread_id=thread.id, role="user", content=content
        )
    return user.id, str(thread.id)


async def test_the_server_runs_queries_as_the_unprivileged_app_role(db):
    assert db.app_role == APP_ROLE
    async with db.as_user(UserID.new()) as conn:
        role, bypass = await conn.fetchrow(
            "SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    assert role == APP_ROLE
    assert bypass is False


async def test_an_unscoped_query_sees_only_the_current_users_rows(db):
    alice, alice_thread = await _user_with_thread(db, "alice's secret plan")
    _bob, bob_thread = await _user_with_thread(db, "bob's secret plan")
    async with db.as_user(alice) as conn:
        seen_threads = {r["id"] for r in await conn.fetch("SELECT id FROM threads")}
        seen_messages = [r["content"] for r in await conn.fetch("SELECT content FROM messages")]
        seen_users = {r["id"] for r in await conn.fetch("SELECT id FROM users")}
    assert seen_threads == {alice_thread}
    assert seen_messages == ["alice's secret plan"]
    assert seen_users == {alice}
    assert bob_thread not in seen_threads


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_a_transaction_that_names_no_user_sees_no_rows(db, table):
    await _user_with_thread(db, "something")
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(f'SET LOCAL ROLE "{APP_ROLE}"')
        count = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
    assert count == 0


async def test_writing_a_row_for_another_user_is_refused(db):
    alice, _ = await _user_with_thread(db, "a")
    bob, _ = await _user_with_thread(db, "b")
    async with db.as_user(alice) as conn:
        with pytest.raises(Exception, match="row-level security"):
            await threads.create(conn, bob, "planted in bob's account")


async def test_updates_and_deletes_cannot_reach_another_users_rows(db):
    alice, _ = await _user_with_thread(db, "a")
    bob, bob_thread = await _user_with_thread(db, "b")
    async with db.as_user(alice) as conn:
        archived = await conn.execute("UPDATE threads SET archived = true")
        deleted = await conn.execute("DELETE FROM messages")
    assert archived == "UPDATE 1"
    assert deleted == "DELETE 1"
    async with db.as_user(bob) as conn:
        still = await conn.fetchrow("SELECT archived FROM threads WHERE id = $1", bob_thread)
        kept = await conn.fetchval("SELECT count(*) FROM messages")
    assert still["archived"] is False
    assert kept == 1


async def test_system_scope_sees_every_tenant_for_cross_tenant_work(db):
    alice, _ = await _user_with_thread(db, "a")
    bob, _ = await _user_with_thread(db, "b")
    async with db.as_system() as conn:
        found = {
            r["id"]
            for r in await conn.fetch("SELECT id FROM users WHERE id = ANY($1)", [alice, bob])
        }
    assert found == {alice, bob}
