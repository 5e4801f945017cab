"""Retention: `golden-path purge` removes history older than each tier keeps (controlled clock)."""

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

import pytest

from golden_path.db import events, messages, runs, threads, usage, users
from golden_path.db.pool import connect
from golden_path.db.retention import purge
from golden_path.db.scope import scoped
from golden_path.ids import MessageID, RequestID, RunID
from golden_path.tiers import TIER_LIMITS, TIER_ORDER, Tier

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Each plan keeps exactly the history it promises (7/30/90/365 days) "
        "and bills are never purged",
        revenue_impact="Longer history is a reason to upgrade; keeping data past its "
        "promise is a liability",
    ),
]

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def _history(conn, tier: Tier, age: timedelta, *, status: str = "succeeded"):
    """A user of ``tier`` with a thread, message, run, event and ledger row, all ``age`` old."""
    user = await users.create(conn, f"{RunID.new()}@purge.test", "hash")
    await users.set_tier(conn, user.id, tier)
    thread = await threads.create(conn, user.id, "old")
    run_id = RunID.new()
    message_id = await messages.insert(
        conn, user_id=user.id, thread_id=thread.id, role="user", content="hi", run_id=run_id
    )
    await runs.create(
        conn,
        run_id=run_id,
        user_id=user.id,
        thread_id=thread.id,
        request_id=RequestID.new(),
        message_id=MessageID(message_id),
        node_id="n",
    )
    await events.append(
        conn,
        user.id,
        run_id,
        {"type": "agent_started", "event_id": f"evt_{RunID.new()[4:]}", "run_id": run_id},
    )
    if status != "running":
        await runs.finish(conn, run_id, status=runs.RunStatus(status))
    await usage.bill(
        conn,
        run_id=run_id,
        user_id=user.id,
        day=(NOW - age).date(),
        input_tokens=1,
        output_tokens=1,
        cost_usd=0.5,
    )
    moment = NOW - age
    await conn.execute("UPDATE messages SET created_at = $2 WHERE user_id = $1", user.id, moment)
    await conn.execute("UPDATE runs SET created_at = $2 WHERE user_id = $1", user.id, moment)
    await conn.execute(
        "UPDATE threads SET created_at = $2, last_activity_at = $2 WHERE user_id = $1",
        user.id,
        moment,
    )
    return user.id, run_id


async def _counts(conn, user_id):
    return {
        table: await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", user_id)  # noqa: S608
        for table in ("messages", "runs", "events", "threads", "usage_ledger")
    }


async def purge_cli(services, now: str) -> tuple[int, str, str]:
    """Run ``golden-path purge --now NOW`` on the worker's database; (status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "golden_path.cli", "purge",
        "--dsn", services.postgres_dsn, "--now", now,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def conn(gp_services):
    connection = await connect(gp_services.postgres_dsn)
    yield connection
    await connection.close()


@pytest.mark.parametrize("tier", [t.value for t in TIER_ORDER])
async def test_history_older_than_the_tiers_retention_is_removed_and_the_bill_kept(conn, tier):
    keep_days = TIER_LIMITS[Tier(tier)].retention_days
    async with scoped(conn, system=True) as system:
        old, _ = await _history(system, Tier(tier), timedelta(days=keep_days, hours=1))
        await purge(system, NOW)
        counts = await _counts(system, old)
    assert counts == {"messages": 0, "runs": 0, "events": 0, "threads": 0, "usage_ledger": 1}


@pytest.mark.parametrize("tier", [t.value for t in TIER_ORDER])
async def test_history_inside_the_tiers_retention_is_kept(conn, tier):
    keep_days = TIER_LIMITS[Tier(tier)].retention_days
    async with scoped(conn, system=True) as system:
        recent, _ = await _history(system, Tier(tier), timedelta(days=keep_days, hours=-1))
        await purge(system, NOW)
        counts = await _counts(system, recent)
    assert counts == {"messages": 1, "runs": 1, "events": 1, "threads": 1, "usage_ledger": 1}


async def test_a_run_still_in_progress_is_never_purged(conn):
    async with scoped(conn, system=True) as system:
        user_id, _ = await _history(system, Tier.FREE, timedelta(days=400), status="running")
        await purge(system, NOW)
        counts = await _counts(system, user_id)
    assert counts["runs"] == 1
    assert counts["events"] == 1
    assert counts["threads"] == 1  # its run still points at it


async def test_the_purge_command_uses_the_clock_it_is_given(gp_services):
    conn = await connect(gp_services.postgres_dsn)
    try:
        async with scoped(conn, system=True) as system:
            user_id, _ = await _history(system, Tier.FREE, timedelta(days=8))
        code, out, _ = await purge_cli(gp_services, (NOW - timedelta(days=2)).isoformat())
        assert code == 0
        assert json.loads(out)["now"] == (NOW - timedelta(days=2)).isoformat()
        async with scoped(conn, system=True) as system:
            assert (await _counts(system, user_id))["messages"] == 1
        code, out, _ = await purge_cli(gp_services, NOW.isoformat())
        assert code == 0
        assert json.loads(out)["deleted"]["messages"] >= 1
        async with scoped(conn, system=True) as system:
            assert (await _counts(system, user_id))["messages"] == 0
    finally:
        await conn.close()


async def test_the_purge_command_refuses_a_malformed_clock(gp_services):
    code, _, err = await purge_cli(gp_services, "next tuesday")
    assert code == 2
    assert "not an ISO 8601" in err
