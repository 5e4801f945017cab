"""Tenant isolation in PostgreSQL itself: a query that forgets its user filter still sees one user.

These tests go through the server's own connection setup (``Database.open`` and
its ``as_user`` transactions), so they prove what the running server gets.
"""

import pytest

from golden_path.db import interrupts, messages, runs, threads, users
from golden_path.db.scope import APP_ROLE, Database
from golden_path.ids import InterruptID, MessageID, RequestID, RunID, ThreadID, ToolCallID, UserID

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

TENANT_TABLES = (
    "users",
    "threads",
    "runs",
    "messages",
    "events",
    "usage_ledger",
    "interrupts",
)


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


async def _paused_run(db: Database, user: UserID, thread: str) -> InterruptID:
    """A run of ``user`` paused for approval (§12.1): its ``interrupts`` row."""
    interrupt_id = InterruptID.new()
    async with db.as_user(user) as conn:
        run = await runs.create(
            conn,
            run_id=RunID.new(),
            user_id=user,
            thread_id=ThreadID(thread),
            request_id=RequestID.new(),
            message_id=MessageID.new(),
            node_id="n",
        )
        await interrupts.insert(
            conn,
            interrupt_id=interrupt_id,
            user_id=user,
            run_id=run.id,
            thread_id=ThreadID(thread),
            tool_call_id=ToolCallID.new(),
            tool_name="advanced_analytics",
            seq=1,
            state={"content": "alice's secret plan"},
        )
    return interrupt_id


async def test_another_users_interrupt_is_invisible_and_cannot_be_answered(db):
    alice, alice_thread = await _user_with_thread(db, "a")
    bob, _ = await _user_with_thread(db, "b")
    interrupt_id = await _paused_run(db, alice, alice_thread)
    async with db.as_user(bob) as conn:
        # Unscoped: row-level security alone keeps alice's pause (and its message) from bob.
        seen = await conn.fetchval("SELECT count(*) FROM interrupts")
        answered = await conn.execute(
            "UPDATE interrupts SET answered_by = 'bob', approved = true WHERE id = $1",
            interrupt_id,
        )
    assert seen == 0
    assert answered == "UPDATE 0"
    async with db.as_user(alice) as conn:
        row = await interrupts.locked(conn, alice, interrupt_id)
    assert row is not None
    assert row.answered_by is None  # still alice's to answer


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
