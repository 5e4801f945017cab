"""The repositories on real PostgreSQL: users, threads, messages, runs, events, usage, search.

Every read is scoped to its owner: another user's row is as missing as a row
that does not exist. Each test creates its own users, so nothing is cleaned.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from golden_path.db import events, messages, runs, search, threads, usage, users
from golden_path.db.search import SearchFilters
from golden_path.ids import EventID, MessageID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import RunStatus
from golden_path.tiers import TIER_ORDER, Tier
from tests.integration.server.conftest import PASSWORD_HASH, NewUser, create_run, unique_email

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="threads, answers, run records, event streams and the usage ledger are "
        "stored once, read back in order and never shown to another customer",
        revenue_impact="a lost answer, a leaked thread or a double-billed run costs customer "
        "trust and billing accuracy on every tier",
    ),
]


def _event(run: runs.Run, kind: str = "agent_thinking", **fields: object) -> dict[str, object]:
    return {
        "type": kind,
        "event_id": str(EventID.new()),
        "user_id": str(run.user_id),
        "thread_id": str(run.thread_id),
        "run_id": str(run.id),
        **fields,
    }


# -- users --------------------------------------------------------------------------------


async def test_create_user_starts_on_free_with_no_events(pool: asyncpg.Pool) -> None:
    email = unique_email()
    async with pool.acquire() as conn:
        user = await users.create(conn, email, PASSWORD_HASH)
        assert UserID.is_valid(user.id)
        assert user.email == email
        assert user.password_hash == PASSWORD_HASH
        assert user.tier is Tier.FREE
        assert user.last_seq == 0
        assert await users.by_id(conn, user.id) == user
        assert await users.last_seq(conn, user.id) == 0


@pytest.mark.parametrize(
    "variant", [str.upper, str.title, lambda e: e], ids=["upper", "title", "same"]
)
async def test_duplicate_email_is_taken_whatever_its_case(pool: asyncpg.Pool, variant) -> None:
    email = unique_email("dup")
    async with pool.acquire() as conn:
        first = await users.create(conn, email, PASSWORD_HASH)
        with pytest.raises(users.EmailTaken):
            await users.create(conn, variant(email), PASSWORD_HASH)
        assert (
            await conn.fetchval("SELECT count(*) FROM users WHERE lower(email) = lower($1)", email)
            == 1
        )
        assert (await users.by_email(conn, email)).id == first.id


async def test_by_email_is_case_insensitive_and_none_when_unknown(pool: asyncpg.Pool) -> None:
    email = unique_email("Mixed")
    async with pool.acquire() as conn:
        created = await users.create(conn, email, PASSWORD_HASH)
        assert (await users.by_email(conn, email.upper())).id == created.id
        assert (await users.by_email(conn, email.lower())).id == created.id
        assert await users.by_email(conn, unique_email("nobody")) is None
        assert await users.by_id(conn, UserID.new()) is None


@pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)
async def test_set_tier_is_read_back(pool: asyncpg.Pool, new_user: NewUser, tier: Tier) -> None:
    user = await new_user()
    async with pool.acquire() as conn:
        await users.set_tier(conn, user.id, tier)
        assert (await users.by_id(conn, user.id)).tier is tier
        assert (await users.by_email(conn, user.email)).tier is tier


async def test_the_database_refuses_an_unknown_tier(pool: asyncpg.Pool, new_user: NewUser) -> None:
    user = await new_user()
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE users SET tier = 'platinum' WHERE id = $1", user.id)
        assert (await users.by_id(conn, user.id)).tier is Tier.FREE


async def test_lock_holds_the_user_row_until_the_transaction_ends(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    user = await new_user()
    async with pool.acquire() as holder, pool.acquire() as other:
        async with holder.transaction():
            locked = await users.lock(holder, user.id)
            assert locked is not None
            assert locked.id == user.id
            async with other.transaction():
                await other.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await users.lock(other, user.id)
        # Released at commit: the other connection locks it at once.
        async with other.transaction():
            await other.execute("SET LOCAL lock_timeout = '2s'")
            assert (await users.lock(other, user.id)).id == user.id


async def test_lock_of_an_unknown_user_is_none(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        assert await users.lock(conn, UserID.new()) is None


# -- threads ------------------------------------------------------------------------------


async def test_create_thread_and_get_it_back(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "Cutting our GPT bill")
        assert ThreadID.is_valid(thread.id)
        assert thread.title == "Cutting our GPT bill"
        assert thread.archived is False
        assert thread.created_at == thread.last_activity_at
        assert await threads.get(conn, user.id, thread.id) == thread
        shown = thread.to_dict()
        assert shown["thread_id"] == thread.id
        assert shown["created_at"].endswith("Z")


async def test_another_users_thread_is_missing(pool: asyncpg.Pool, new_user: NewUser) -> None:
    owner, stranger = await new_user(), await new_user()
    async with pool.acquire() as conn:
        thread = await threads.create(conn, owner.id, "private")
        assert await threads.get(conn, stranger.id, thread.id) is None
        assert await threads.get(conn, owner.id, ThreadID.new()) is None
        assert await threads.archive(conn, stranger.id, thread.id) is None
        assert (await threads.get(conn, owner.id, thread.id)).archived is False
        assert await threads.page(conn, stranger.id, archived=False, limit=10, after=None) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("  How   much\ndo we spend? ", "How much do we spend?"),
        ("x" * 80, "x" * 80),
        ("word " * 40, ("word " * 16).strip() + "…"),
    ],
    ids=["whitespace", "exactly-80", "long"],
)
async def test_title_from_message_is_stored_as_given(
    pool: asyncpg.Pool, user: users.User, content: str, expected: str
) -> None:
    title = threads.title_from(content)
    assert title == expected
    assert len(title) <= threads.TITLE_CHARS
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, title)
        assert (await threads.get(conn, user.id, thread.id)).title == expected


async def test_archive_marks_the_thread_and_filters_pages(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        kept = await threads.create(conn, user.id, "kept")
        gone = await threads.create(conn, user.id, "gone")
        archived = await threads.archive(conn, user.id, gone.id)
        assert archived is not None
        assert archived.archived is True
        active = await threads.page(conn, user.id, archived=False, limit=10, after=None)
        shelved = await threads.page(conn, user.id, archived=True, limit=10, after=None)
    assert [t.id for t in active] == [kept.id]
    assert [t.id for t in shelved] == [gone.id]


async def test_page_lists_newest_activity_first(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        made = [await threads.create(conn, user.id, f"t{i}") for i in range(4)]
        # Activity on the oldest thread brings it to the top.
        await threads.touch(conn, made[0].id)
        listed = await threads.page(conn, user.id, archived=False, limit=10, after=None)
    assert [t.id for t in listed] == [made[0].id, made[3].id, made[2].id, made[1].id]
    assert all(
        (a.last_activity_at, a.id) > (b.last_activity_at, b.id)
        for a, b in itertools.pairwise(listed)
    )


@pytest.mark.parametrize("same_instant", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("page_size", [1, 3, 7, 20])
async def test_keyset_pagination_covers_every_thread_once(
    pool: asyncpg.Pool, user: users.User, page_size: int, same_instant: bool
) -> None:
    total = 7
    async with pool.acquire() as conn:
        if same_instant:
            # One transaction: every thread gets the same now(), so the id breaks the tie.
            async with conn.transaction():
                made = [await threads.create(conn, user.id, f"t{i}") for i in range(total)]
            assert len({t.last_activity_at for t in made}) == 1
        else:
            made = [await threads.create(conn, user.id, f"t{i}") for i in range(total)]
        seen: list[ThreadID] = []
        after = None
        pages = 0
        while True:
            page = await threads.page(conn, user.id, archived=False, limit=page_size, after=after)
            pages += 1
            assert len(page) <= page_size
            if not page:
                break
            seen.extend(t.id for t in page)
            after = (page[-1].last_activity_at, page[-1].id)
            assert pages <= total + 1
    assert len(seen) == len(set(seen)) == total
    assert set(seen) == {t.id for t in made}
    full = sorted(made, key=lambda t: (t.last_activity_at, t.id), reverse=True)
    assert seen == [t.id for t in full]


# -- messages -----------------------------------------------------------------------------


async def test_messages_are_listed_in_order_for_their_owner_only(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    owner, stranger = await new_user(), await new_user()
    async with pool.acquire() as conn:
        thread = await threads.create(conn, owner.id, "chat")
        run = await create_run(conn, owner.id, thread.id)
        asked = await messages.insert(
            conn, user_id=owner.id, thread_id=thread.id, role="user", content="Hi", run_id=run.id
        )
        answered = await messages.insert(
            conn, user_id=owner.id, thread_id=thread.id, role="assistant", content="Hello"
        )
        listed = await messages.for_thread(conn, owner.id, thread.id)
        assert await messages.for_thread(conn, stranger.id, thread.id) == []
        assert await messages.for_thread(conn, owner.id, ThreadID.new()) == []
    assert MessageID.is_valid(asked)
    assert MessageID.is_valid(answered)
    assert [(m["message_id"], m["role"], m["content"]) for m in listed] == [
        (asked, "user", "Hi"),
        (answered, "assistant", "Hello"),
    ]
    assert listed[0]["run_id"] == run.id
    assert listed[1]["run_id"] is None
    assert all(m["thread_id"] == thread.id and m["created_at"].endswith("Z") for m in listed)


async def test_message_keeps_a_given_id_and_refuses_an_unknown_role(
    pool: asyncpg.Pool, user: users.User
) -> None:
    chosen = MessageID.new()
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "chat")
        got = await messages.insert(
            conn, user_id=user.id, thread_id=thread.id, role="user", content="x", message_id=chosen
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await messages.insert(
                conn, user_id=user.id, thread_id=thread.id, role="system", content="x"
            )
        assert got == chosen
        assert [m["message_id"] for m in await messages.for_thread(conn, user.id, thread.id)] == [
            chosen
        ]


# -- runs ---------------------------------------------------------------------------------


async def test_run_is_created_running_and_found_by_request(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, request_id="client-req-1", node_id="node-a")
        assert run.status is RunStatus.RUNNING
        assert run.result is None
        assert run.finished_at is None
        assert (run.input_tokens, run.output_tokens, run.cost_usd) == (0, 0, 0.0)
        assert await runs.by_request(conn, user.id, "client-req-1") == run
        assert await runs.get(conn, user.id, run.id) == run
        assert await runs.by_request(conn, user.id, "client-req-2") is None
        assert await conn.fetchval("SELECT node_id FROM runs WHERE id = $1", run.id) == "node-a"
    assert run.to_dict()["status"] == "running"


async def test_runs_are_scoped_to_their_owner(pool: asyncpg.Pool, new_user: NewUser) -> None:
    owner, stranger = await new_user(), await new_user()
    async with pool.acquire() as conn:
        run = await create_run(conn, owner.id, request_id="shared-id")
        assert await runs.get(conn, stranger.id, run.id) is None
        assert await runs.by_request(conn, stranger.id, "shared-id") is None
        # The same request id is another user's own key: no clash.
        theirs = await create_run(conn, stranger.id, request_id="shared-id")
        assert theirs.id != run.id
        assert await runs.count_running(conn, stranger.id) == 1
        assert await runs.count_running(conn, owner.id) == 1


async def test_request_id_is_unique_per_user(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        first = await create_run(conn, user.id, request_id="same-request")
        with pytest.raises(asyncpg.UniqueViolationError):
            await create_run(conn, user.id, first.thread_id, request_id="same-request")
        assert await conn.fetchval("SELECT count(*) FROM runs WHERE user_id = $1", user.id) == 1


@pytest.mark.parametrize(
    "status",
    [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED],
    ids=lambda s: s.value,
)
async def test_a_run_finishes_only_once(
    pool: asyncpg.Pool, user: users.User, status: RunStatus
) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)
        assert await runs.finish(
            conn,
            run.id,
            status=status,
            result={"answer": 42},
            error_code=None if status is RunStatus.SUCCEEDED else "x",
            input_tokens=10,
            output_tokens=5,
            cost_usd=0.000105,
        )
        assert not await runs.finish(conn, run.id, status=RunStatus.FAILED, error_code="late")
        ended = await runs.get(conn, user.id, run.id)
        assert await runs.count_running(conn, user.id) == 0
    assert ended.status is status
    assert ended.result == {"answer": 42}
    assert (ended.input_tokens, ended.output_tokens, ended.cost_usd) == (10, 5, 0.000105)
    assert ended.finished_at is not None
    assert ended.finished_at >= ended.created_at
    assert ended.to_dict()["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": 0.000105,
    }


async def test_concurrent_finishes_end_a_run_once(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)

    async def finish(status: RunStatus) -> bool:
        async with pool.acquire() as conn:
            return await runs.finish(conn, run.id, status=status)

    outcomes = await asyncio.gather(
        finish(RunStatus.SUCCEEDED), finish(RunStatus.CANCELLED), finish(RunStatus.FAILED)
    )
    assert sorted(outcomes) == [False, False, True]


async def test_count_running_and_count_since(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        made = [await create_run(conn, user.id, thread.id) for _ in range(4)]
        await runs.finish(conn, made[0].id, status=RunStatus.SUCCEEDED)
        await runs.finish(conn, made[1].id, status=RunStatus.FAILED)
        await conn.execute(
            "UPDATE runs SET created_at = now() - interval '2 days' WHERE id = $1", made[2].id
        )
        now = await conn.fetchval("SELECT now()")
        assert await runs.count_running(conn, user.id) == 2
        assert await runs.count_since(conn, user.id, now - timedelta(days=1)) == 3
        assert await runs.count_since(conn, user.id, now - timedelta(days=3)) == 4
        assert await runs.count_since(conn, user.id, now + timedelta(hours=1)) == 0
        assert await runs.count_running(conn, UserID.new()) == 0


# -- events -------------------------------------------------------------------------------


async def test_append_numbers_each_users_events_from_one(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    alice, bob = await new_user(), await new_user()
    async with pool.acquire() as conn:
        run_a, run_b = await create_run(conn, alice.id), await create_run(conn, bob.id)
        seqs: dict[str, list[int]] = {alice.id: [], bob.id: []}
        for who, run in [
            (alice, run_a),
            (bob, run_b),
            (alice, run_a),
            (alice, run_a),
            (bob, run_b),
        ]:
            stored = await events.append(conn, who.id, run.id, _event(run))
            seqs[who.id].append(stored["seq"])
        assert await users.last_seq(conn, alice.id) == 3
        assert await users.last_seq(conn, bob.id) == 2
    assert seqs == {alice.id: [1, 2, 3], bob.id: [1, 2]}


async def test_append_returns_the_event_with_its_seq_and_stores_it_whole(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)
        sent = _event(run, "tool_completed", results={"nested": [1, {"a": "b"}]}, success=True)
        stored = await events.append(conn, user.id, run.id, sent)
        read = await events.after(conn, user.id, 0)
    assert stored == {**sent, "seq": 1}
    assert "seq" not in sent  # the caller's dict is not changed
    assert read == [stored]


async def test_after_between_and_for_run(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        first, second = await create_run(conn, user.id), await create_run(conn, user.id)
        order = [first, second, first, second, first, first]
        stored = [await events.append(conn, user.id, r.id, _event(r)) for r in order]
        everything = await events.after(conn, user.id, 0)
        assert everything == stored
        assert [e["seq"] for e in await events.after(conn, user.id, 4)] == [5, 6]
        assert [e["seq"] for e in await events.after(conn, user.id, 1, limit=2)] == [2, 3]
        assert await events.after(conn, user.id, 6) == []
        assert [e["seq"] for e in await events.between(conn, user.id, 1, 4)] == [2, 3, 4]
        assert await events.between(conn, user.id, 3, 3) == []
        assert [e["seq"] for e in await events.for_run(conn, user.id, first.id)] == [1, 3, 5, 6]
        assert [e["seq"] for e in await events.for_run(conn, user.id, second.id)] == [2, 4]


async def test_events_are_read_for_their_owner_only(pool: asyncpg.Pool, new_user: NewUser) -> None:
    owner, stranger = await new_user(), await new_user()
    async with pool.acquire() as conn:
        run = await create_run(conn, owner.id)
        await events.append(conn, owner.id, run.id, _event(run))
        assert await events.after(conn, stranger.id, 0) == []
        assert await events.between(conn, stranger.id, 0, 10) == []
        assert await events.for_run(conn, stranger.id, run.id) == []


async def test_event_id_is_unique_and_a_refused_append_leaves_no_gap(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)
        first = await events.append(conn, user.id, run.id, _event(run))
        with pytest.raises(asyncpg.UniqueViolationError):
            async with conn.transaction():
                await events.append(
                    conn, user.id, run.id, {**_event(run), "event_id": first["event_id"]}
                )
        following = await events.append(conn, user.id, run.id, _event(run))
        assert following["seq"] == 2
        assert [e["seq"] for e in await events.after(conn, user.id, 0)] == [1, 2]


async def test_append_for_an_unknown_user_raises(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)
        with pytest.raises(LookupError):
            await events.append(conn, UserID.new(), run.id, _event(run))


# -- usage --------------------------------------------------------------------------------


async def test_a_run_is_billed_exactly_once(pool: asyncpg.Pool, user: users.User) -> None:
    today = date(2025, 3, 14)
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)
        assert await usage.bill(
            conn,
            run_id=run.id,
            user_id=user.id,
            day=today,
            input_tokens=100,
            output_tokens=20,
            cost_usd=0.0006,
        )
        before = await usage.by_day(conn, user.id, None, None)
        assert not await usage.bill(
            conn,
            run_id=run.id,
            user_id=user.id,
            day=today,
            input_tokens=999,
            output_tokens=999,
            cost_usd=9.99,
        )
        after = await usage.by_day(conn, user.id, None, None)
        rows = await conn.fetchval("SELECT count(*) FROM usage_ledger WHERE run_id = $1", run.id)
    assert rows == 1
    assert (
        before
        == after
        == [
            {
                "day": "2025-03-14",
                "runs": 1,
                "input_tokens": 100,
                "output_tokens": 20,
                "cost_usd": 0.0006,
            }
        ]
    )


async def test_concurrent_bills_of_one_run_write_one_row(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id)

    async def bill() -> bool:
        async with pool.acquire() as conn:
            return await usage.bill(
                conn,
                run_id=run.id,
                user_id=user.id,
                day=date(2025, 1, 1),
                input_tokens=1,
                output_tokens=1,
                cost_usd=0.01,
            )

    assert sorted(await asyncio.gather(*(bill() for _ in range(4)))) == [False] * 3 + [True]


async def test_by_day_sums_per_day_with_inclusive_filters(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    owner, stranger = await new_user(), await new_user()
    billed = [
        (date(2025, 5, 1), 100, 10, 0.25),
        (date(2025, 5, 1), 50, 5, 0.125),
        (date(2025, 5, 2), 7, 3, 0.5),
        (date(2025, 5, 4), 1, 1, 0.001),
    ]
    async with pool.acquire() as conn:
        thread = await threads.create(conn, owner.id, "t")
        for day, tokens_in, tokens_out, cost in billed:
            run = await create_run(conn, owner.id, thread.id)
            await usage.bill(
                conn,
                run_id=run.id,
                user_id=owner.id,
                day=day,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=cost,
            )
        everything = await usage.by_day(conn, owner.id, None, None)
        middle = await usage.by_day(conn, owner.id, date(2025, 5, 2), date(2025, 5, 4))
        from_second = await usage.by_day(conn, owner.id, date(2025, 5, 2), None)
        upto_first = await usage.by_day(conn, owner.id, None, date(2025, 5, 1))
        nothing = await usage.by_day(conn, owner.id, date(2025, 5, 3), date(2025, 5, 3))
        theirs = await usage.by_day(conn, stranger.id, None, None)
    assert everything == [
        {
            "day": "2025-05-01",
            "runs": 2,
            "input_tokens": 150,
            "output_tokens": 15,
            "cost_usd": 0.375,
        },
        {"day": "2025-05-02", "runs": 1, "input_tokens": 7, "output_tokens": 3, "cost_usd": 0.5},
        {"day": "2025-05-04", "runs": 1, "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.001},
    ]
    assert [r["day"] for r in middle] == ["2025-05-02", "2025-05-04"]
    assert middle == from_second
    assert upto_first == everything[:1]
    assert nothing == []
    assert theirs == []


# -- search -------------------------------------------------------------------------------


async def _say(
    conn: asyncpg.Connection,
    user_id: UserID,
    thread_id: ThreadID,
    role: str,
    text: str,
    at: datetime | None = None,
) -> MessageID:
    message_id = await messages.insert(
        conn,
        user_id=user_id,
        thread_id=thread_id,
        role=role,
        content=text,  # type: ignore[arg-type]
    )
    if at is not None:
        await conn.execute("UPDATE messages SET created_at = $2 WHERE id = $1", message_id, at)
    return message_id


async def test_search_ranks_the_better_match_first(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        weak = await _say(conn, user.id, thread.id, "user", "Our invoice arrived late this month.")
        strong = await _say(
            conn,
            user.id,
            thread.id,
            "assistant",
            "Invoice review: the invoice shows invoice lines for gpt-4o and more invoice detail.",
        )
        await _say(conn, user.id, thread.id, "user", "Nothing relevant here at all.")
        found = await search.search(conn, user.id, SearchFilters("invoice"), limit=10, offset=0)
    assert [m["message_id"] for m in found] == [strong, weak]
    assert found[0]["rank"] > found[1]["rank"] > 0


async def test_search_sees_only_the_users_own_messages(
    pool: asyncpg.Pool, new_user: NewUser
) -> None:
    owner, stranger = await new_user(), await new_user()
    async with pool.acquire() as conn:
        mine = await threads.create(conn, owner.id, "mine")
        theirs = await threads.create(conn, stranger.id, "theirs")
        own = await _say(conn, owner.id, mine.id, "user", "embeddings budget question")
        await _say(conn, stranger.id, theirs.id, "user", "embeddings budget secret")
        found = await search.search(conn, owner.id, SearchFilters("embeddings"), limit=10, offset=0)
        # Naming another user's thread finds nothing rather than their messages.
        foreign = await search.search(
            conn, owner.id, SearchFilters("embeddings", thread_id=theirs.id), limit=10, offset=0
        )
    assert [m["message_id"] for m in found] == [own]
    assert foreign == []


async def test_search_filters_by_thread_and_role(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        one = await threads.create(conn, user.id, "one")
        two = await threads.create(conn, user.id, "two")
        q1 = await _say(conn, user.id, one.id, "user", "latency of claude models")
        a1 = await _say(conn, user.id, one.id, "assistant", "latency is low for claude haiku")
        q2 = await _say(conn, user.id, two.id, "user", "latency budget for claude")

        async def ids(**filters: object) -> set[MessageID]:
            got = await search.search(
                conn, user.id, SearchFilters("latency", **filters), limit=10, offset=0
            )
            return {m["message_id"] for m in got}

        assert await ids() == {q1, a1, q2}
        assert await ids(thread_id=one.id) == {q1, a1}
        assert await ids(role="user") == {q1, q2}
        assert await ids(role="assistant") == {a1}
        assert await ids(thread_id=two.id, role="assistant") == set()


async def test_search_since_is_inclusive_and_until_exclusive(
    pool: asyncpg.Pool, user: users.User
) -> None:
    base = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        made = [
            await _say(
                conn, user.id, thread.id, "user", f"tokens report {i}", base + timedelta(days=i)
            )
            for i in range(4)
        ]

        async def ids(since: datetime | None, until: datetime | None) -> list[MessageID]:
            got = await search.search(
                conn, user.id, SearchFilters("tokens", since=since, until=until), limit=10, offset=0
            )
            return sorted(m["message_id"] for m in got)

        assert await ids(base + timedelta(days=1), None) == sorted(made[1:])
        assert await ids(None, base + timedelta(days=2)) == sorted(made[:2])
        assert await ids(base + timedelta(days=1), base + timedelta(days=3)) == sorted(made[1:3])
        assert await ids(base + timedelta(days=9), None) == []


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("We are optimizing our prompts", "optimize"),
        ("Please optimize the pipeline", "optimizing"),
        ("Reduce the running costs", "cost"),
        ("The model was cheaper", "cheaper"),
    ],
)
async def test_search_uses_english_stemming(
    pool: asyncpg.Pool, user: users.User, stored: str, query: str
) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        wanted = await _say(conn, user.id, thread.id, "user", stored)
        await _say(conn, user.id, thread.id, "user", "an unrelated sentence about lunch")
        found = await search.search(conn, user.id, SearchFilters(query), limit=10, offset=0)
    assert [m["message_id"] for m in found] == [wanted]


async def test_search_pages_with_limit_and_offset(pool: asyncpg.Pool, user: users.User) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        made = {await _say(conn, user.id, thread.id, "user", f"batch job {i}") for i in range(5)}
        pages = [
            await search.search(conn, user.id, SearchFilters("batch"), limit=2, offset=offset)
            for offset in (0, 2, 4, 6)
        ]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    seen = [m["message_id"] for p in pages for m in p]
    assert len(seen) == len(set(seen))
    assert set(seen) == made


async def test_search_with_no_match_or_a_stop_word_finds_nothing(
    pool: asyncpg.Pool, user: users.User
) -> None:
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "t")
        await _say(conn, user.id, thread.id, "user", "the spend of the team")
        assert await search.search(conn, user.id, SearchFilters("zebra"), limit=5, offset=0) == []
        assert await search.search(conn, user.id, SearchFilters("the"), limit=5, offset=0) == []


async def test_request_ids_of_the_protocol_format_are_stored_verbatim(
    pool: asyncpg.Pool, user: users.User
) -> None:
    request_id = RequestID("A-z_0-9" * 9 + "x")
    assert len(request_id) == 64
    async with pool.acquire() as conn:
        run = await create_run(conn, user.id, request_id=request_id)
        assert (await runs.by_request(conn, user.id, request_id)).id == run.id
    assert RunID.is_valid(run.id)
