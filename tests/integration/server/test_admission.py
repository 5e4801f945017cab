"""Run admission on real PostgreSQL: quotas, concurrency, threads and idempotency, per tier.

Admission runs in one transaction under the user's row lock, so concurrent
messages of one user see exact counts, and a refused message writes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import pytest

from golden_path.db import runs, threads, users
from golden_path.ids import RequestID, ThreadID, UserID
from golden_path.protocol import ErrorCode, RunStatus
from golden_path.server.clock import start_of_utc_day, utcnow
from golden_path.server.runs.admission import (
    Admitted,
    Duplicate,
    Refusal,
    admit,
    next_tier,
    quota_upgrade,
)
from golden_path.tiers import TIER_LIMITS, TIER_ORDER, Tier
from tests.integration.server.conftest import NewUser

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="each plan gets exactly the runs and parallelism it pays for; a refusal "
        "says why and, below enterprise, which plan lifts the limit",
        revenue_impact="quota refusals with an upgrade offer are the free-to-paid path; "
        "over-admitting gives paid capacity away, under-admitting loses paying users",
    ),
]

TIERS = pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)
TABLES = ("runs", "messages", "threads", "events", "usage_ledger")


async def _admit(
    conn: asyncpg.Connection,
    user: users.User,
    tier: Tier,
    *,
    thread_id: str | None = None,
    request_id: str | None = None,
    content: str = "How much do we spend on gpt-4o?",
    now: datetime | None = None,
) -> Admitted | Duplicate | Refusal:
    return await admit(
        conn,
        user_id=user.id,
        tier=tier,
        content=content,
        thread_id=thread_id,
        request_id=RequestID(request_id or RequestID.new()),
        node_id="node-admission",
        now=now or utcnow(),
    )


async def _counts(conn: asyncpg.Connection, user_id: UserID) -> dict[str, int]:
    return {
        table: int(await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", user_id))  # noqa: S608
        for table in TABLES
    }


async def _past_runs(
    conn: asyncpg.Connection, user_id: UserID, count: int, *, status: str, created_at: datetime
) -> None:
    """``count`` runs of the user written directly, in one statement (enterprise needs 10,000)."""
    thread = await threads.create(conn, user_id, "history")
    await conn.execute(
        "INSERT INTO runs (id, user_id, thread_id, request_id, message_id, status, created_at) "
        "SELECT 'run_' || md5(random()::text || g), $1, $2, 'past-' || $2 || '-' || g, "
        "'msg_' || md5(random()::text || g), $3, $4 FROM generate_series(1, $5) AS g",
        user_id,
        thread.id,
        status,
        created_at,
        count,
    )


# -- admitted -----------------------------------------------------------------------------


@TIERS
async def test_a_first_message_opens_a_thread_and_a_running_run(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    content = "  We spend   $4k a month on gpt-4o.  What can we cut? "
    async with pool.acquire() as conn:
        outcome = await _admit(conn, user, tier, request_id="first-message", content=content)
        assert isinstance(outcome, Admitted)
        assert outcome.created_thread is True
        run = outcome.run
        assert run.status is RunStatus.RUNNING
        assert run.request_id == "first-message"
        assert await runs.by_request(conn, user.id, "first-message") == run
        thread = await threads.get(conn, user.id, run.thread_id)
        assert thread is not None
        assert thread.title == threads.title_from(content)
        stored = await conn.fetchrow("SELECT * FROM messages WHERE id = $1", run.message_id)
        assert (stored["role"], stored["content"], stored["run_id"]) == ("user", content, run.id)
        assert await conn.fetchval("SELECT node_id FROM runs WHERE id = $1", run.id) == (
            "node-admission"
        )
        assert await _counts(conn, user.id) == {
            "runs": 1,
            "messages": 1,
            "threads": 1,
            "events": 0,
            "usage_ledger": 0,
        }


async def test_a_message_in_an_existing_thread_touches_it(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "ongoing")
        other = await threads.create(conn, user.id, "newer")
        outcome = await _admit(conn, user, Tier.FREE, thread_id=thread.id)
        assert isinstance(outcome, Admitted)
        assert outcome.created_thread is False
        assert outcome.run.thread_id == thread.id
        touched = await threads.get(conn, user.id, thread.id)
        assert touched.last_activity_at > thread.last_activity_at
        top = await threads.page(conn, user.id, archived=False, limit=1, after=None)
        assert [t.id for t in top] == [thread.id] != [other.id]


async def test_a_named_thread_with_create_thread_is_made_on_first_use_and_only_if_admitted(
    pool: asyncpg.Pool, user: users.User
) -> None:
    """AG-UI's client-chosen threads: created with the given id, then continued."""
    named = ThreadID.new()

    async def admit_named(now: datetime) -> Admitted | Duplicate | Refusal:
        return await admit(
            conn,
            user_id=user.id,
            tier=Tier.FREE,
            content="Hello there",
            thread_id=named,
            request_id=RequestID.new(),
            node_id="node-admission",
            now=now,
            create_thread=True,
        )

    async with pool.acquire() as conn:
        # Refused by the quota (yesterday's, used up): nothing is written, not the thread.
        limit = TIER_LIMITS[Tier.FREE].runs_per_day
        yesterday = start_of_utc_day(utcnow()) - timedelta(days=1)
        await _past_runs(conn, user.id, limit, status="succeeded", created_at=yesterday)
        refused = await admit_named(yesterday + timedelta(hours=1))
        assert isinstance(refused, Refusal)
        assert refused.code == ErrorCode.QUOTA_EXCEEDED
        assert await threads.get(conn, user.id, named) is None
        first = await admit_named(utcnow())
        assert isinstance(first, Admitted)
        assert first.created_thread is True
        assert first.run.thread_id == named
        await runs.finish(conn, first.run.id, status=RunStatus.SUCCEEDED)
        second = await admit_named(utcnow())
        assert isinstance(second, Admitted)
        assert (second.created_thread, second.run.thread_id) == (False, named)


# -- quota --------------------------------------------------------------------------------


@TIERS
async def test_the_daily_quota_admits_the_last_run_then_refuses(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    limit = TIER_LIMITS[tier].runs_per_day
    now = utcnow()
    async with pool.acquire() as conn:
        await _past_runs(
            conn, user.id, limit - 1, status="succeeded", created_at=start_of_utc_day(now)
        )
        last = await _admit(conn, user, tier, now=now)
        assert isinstance(last, Admitted)
        assert await runs.finish(conn, last.run.id, status=RunStatus.SUCCEEDED)
        before = await _counts(conn, user.id)
        refused = await _admit(conn, user, tier, now=now)
        assert await _counts(conn, user.id) == before
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.QUOTA_EXCEEDED
    assert str(limit) in refused.message


@TIERS
async def test_quota_refusal_offers_the_next_tier(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    limit = TIER_LIMITS[tier].runs_per_day
    now = utcnow()
    async with pool.acquire() as conn:
        await _past_runs(conn, user.id, limit, status="succeeded", created_at=now)
        refused = await _admit(conn, user, tier, now=now)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.QUOTA_EXCEEDED
    target = next_tier(tier)
    if target is None:
        assert tier is Tier.ENTERPRISE
        assert refused.upgrade is None
    else:
        assert TIER_ORDER.index(target) == TIER_ORDER.index(tier) + 1
        assert refused.upgrade == quota_upgrade(tier)
        assert refused.upgrade["required_tier"] == target.value
        assert refused.upgrade["feature"] == "runs_per_day"
        assert str(TIER_LIMITS[target].runs_per_day) in refused.upgrade["message"]


@TIERS
async def test_yesterdays_runs_do_not_count_against_today(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    limit = TIER_LIMITS[tier].runs_per_day
    now = utcnow()
    yesterday = start_of_utc_day(now) - timedelta(seconds=1)
    async with pool.acquire() as conn:
        await _past_runs(conn, user.id, limit, status="succeeded", created_at=yesterday)
        today = await _admit(conn, user, tier, now=now)
        # Seen from yesterday, the same runs fill the quota.
        then = await _admit(conn, user, tier, now=yesterday)
    assert isinstance(today, Admitted)
    assert isinstance(then, Refusal)
    assert then.code is ErrorCode.QUOTA_EXCEEDED


async def test_failed_and_cancelled_runs_count_towards_the_quota(
    pool: asyncpg.Pool, user: users.User
) -> None:
    limit = TIER_LIMITS[Tier.FREE].runs_per_day
    now = utcnow()
    async with pool.acquire() as conn:
        await _past_runs(conn, user.id, limit // 2, status="failed", created_at=now)
        await _past_runs(conn, user.id, limit - limit // 2, status="cancelled", created_at=now)
        refused = await _admit(conn, user, Tier.FREE, now=now)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.QUOTA_EXCEEDED


# -- concurrency --------------------------------------------------------------------------


@TIERS
async def test_concurrency_limit_refuses_while_runs_are_in_progress(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    allowed = TIER_LIMITS[tier].concurrent_runs
    async with pool.acquire() as conn:
        await _past_runs(conn, user.id, allowed - 1, status="running", created_at=utcnow())
        last = await _admit(conn, user, tier)
        assert isinstance(last, Admitted)
        before = await _counts(conn, user.id)
        refused = await _admit(conn, user, tier)
        assert await _counts(conn, user.id) == before
        assert isinstance(refused, Refusal)
        assert refused.code is ErrorCode.CONCURRENCY_LIMIT
        assert refused.upgrade is None
        assert str(allowed) in refused.message
        # One run ends: a slot is free again.
        await runs.finish(conn, last.run.id, status=RunStatus.SUCCEEDED)
        assert isinstance(await _admit(conn, user, tier), Admitted)


async def test_quota_is_checked_before_concurrency(pool: asyncpg.Pool, user: users.User) -> None:
    now = utcnow()
    async with pool.acquire() as conn:
        await _past_runs(
            conn, user.id, TIER_LIMITS[Tier.FREE].runs_per_day, status="running", created_at=now
        )
        refused = await _admit(conn, user, Tier.FREE, now=now)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.QUOTA_EXCEEDED


@pytest.mark.parametrize(
    ("tier", "attempts"),
    [(Tier.FREE, 5), (Tier.EARLY, 5), (Tier.FREE, 12)],
    ids=["free-5", "early-5", "free-12"],
)
async def test_concurrent_admissions_respect_the_concurrency_limit(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier, attempts: int
) -> None:
    user = await new_user(tier)

    async def one() -> Admitted | Duplicate | Refusal:
        async with pool.acquire() as conn:
            return await _admit(conn, user, tier)

    outcomes = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(attempts))), 30)
    admitted = [o for o in outcomes if isinstance(o, Admitted)]
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(admitted) == TIER_LIMITS[tier].concurrent_runs
    assert len(refused) == attempts - len(admitted)
    assert {r.code for r in refused} == {ErrorCode.CONCURRENCY_LIMIT}
    async with pool.acquire() as conn:
        assert await runs.count_running(conn, user.id) == len(admitted)
        counts = await _counts(conn, user.id)
    assert counts["runs"] == counts["messages"] == counts["threads"] == len(admitted)


async def test_concurrent_admissions_of_different_users_do_not_block_each_other(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    people = [await new_user() for _ in range(5)]

    async def one(person: users.User) -> Admitted | Duplicate | Refusal:
        async with pool.acquire() as conn:
            return await _admit(conn, person, Tier.FREE)

    outcomes = await asyncio.wait_for(asyncio.gather(*(one(p) for p in people)), 30)
    assert all(isinstance(o, Admitted) for o in outcomes)


# -- threads ------------------------------------------------------------------------------


@TIERS
async def test_unknown_and_foreign_threads_are_refused_alike(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user, stranger = await new_user(tier), await new_user()
    async with pool.acquire() as conn:
        foreign = await threads.create(conn, stranger.id, "someone else's")
        before = await _counts(conn, user.id)
        unknown = await _admit(conn, user, tier, thread_id=ThreadID.new())
        theirs = await _admit(conn, user, tier, thread_id=foreign.id)
        assert await _counts(conn, user.id) == before
        assert await _counts(conn, stranger.id) == {
            "runs": 0,
            "messages": 0,
            "threads": 1,
            "events": 0,
            "usage_ledger": 0,
        }
    assert isinstance(unknown, Refusal)
    assert isinstance(theirs, Refusal)
    assert unknown.code is theirs.code is ErrorCode.THREAD_NOT_FOUND
    assert unknown.upgrade is theirs.upgrade is None


@TIERS
async def test_an_archived_thread_is_refused(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "done")
        await threads.archive(conn, user.id, thread.id)
        before = await _counts(conn, user.id)
        refused = await _admit(conn, user, tier, thread_id=thread.id)
        assert await _counts(conn, user.id) == before
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.THREAD_ARCHIVED


async def test_a_refusal_after_the_thread_check_leaves_no_thread(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        held = await _admit(conn, user, Tier.FREE)
        assert isinstance(held, Admitted)
        before = await _counts(conn, user.id)
        # No thread given: a refused message must not leave a new empty thread behind.
        refused = await _admit(conn, user, Tier.FREE)
        assert await _counts(conn, user.id) == before
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.CONCURRENCY_LIMIT


# -- idempotency --------------------------------------------------------------------------


@TIERS
async def test_a_repeated_request_id_returns_the_original_run(
    pool: asyncpg.Pool, new_user: NewUser, tier: Tier
) -> None:
    user = await new_user(tier)
    async with pool.acquire() as conn:
        first = await _admit(conn, user, tier, request_id="retry-me")
        assert isinstance(first, Admitted)
        before = await _counts(conn, user.id)
        again = await _admit(conn, user, tier, request_id="retry-me", content="different text")
        assert await _counts(conn, user.id) == before
    assert isinstance(again, Duplicate)
    assert again.run == first.run


async def test_a_duplicate_is_recognised_even_over_the_quota(
    pool: asyncpg.Pool, user: users.User
) -> None:
    now = utcnow()
    async with pool.acquire() as conn:
        first = await _admit(conn, user, Tier.FREE, request_id="before-quota", now=now)
        assert isinstance(first, Admitted)
        await runs.finish(conn, first.run.id, status=RunStatus.SUCCEEDED)
        await _past_runs(
            conn, user.id, TIER_LIMITS[Tier.FREE].runs_per_day, status="succeeded", created_at=now
        )
        again = await _admit(conn, user, Tier.FREE, request_id="before-quota", now=now)
        fresh = await _admit(conn, user, Tier.FREE, now=now)
    assert isinstance(again, Duplicate)
    assert again.run.id == first.run.id
    assert again.run.status is RunStatus.SUCCEEDED
    assert isinstance(fresh, Refusal)
    assert fresh.code is ErrorCode.QUOTA_EXCEEDED


async def test_concurrent_duplicates_admit_one_run(pool: asyncpg.Pool, new_user: NewUser) -> None:
    user = await new_user(Tier.ENTERPRISE)

    async def one() -> Admitted | Duplicate | Refusal:
        async with pool.acquire() as conn:
            return await _admit(conn, user, Tier.ENTERPRISE, request_id="same-everywhere")

    outcomes = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(5))), 30)
    admitted = [o for o in outcomes if isinstance(o, Admitted)]
    duplicates = [o for o in outcomes if isinstance(o, Duplicate)]
    assert len(admitted) == 1
    assert len(duplicates) == 4
    assert {d.run.id for d in duplicates} == {admitted[0].run.id}


async def test_an_account_that_no_longer_exists_is_refused(pool: asyncpg.Pool) -> None:
    ghost = users.User(UserID.new(), "ghost@example.test", "h", Tier.FREE, 0)
    async with pool.acquire() as conn:
        refused = await _admit(conn, ghost, Tier.FREE)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.UNAVAILABLE


async def test_next_tier_walks_the_tier_order(gp_services) -> None:
    assert gp_services.postgres_dsn
    chain = [Tier.FREE]
    while (following := next_tier(chain[-1])) is not None:
        chain.append(following)
    assert tuple(chain) == TIER_ORDER
    assert quota_upgrade(Tier.ENTERPRISE) is None
