"""The run service on real PostgreSQL and Redis: a message becomes a persisted, billed answer.

A real ``RunService`` with a started ``Hub`` and a recording subscriber for the
user: the subscriber sees what a WebSocket connection would be pushed. Every
event must pass the protocol's event contract, be persisted under the same ids
in the same order, and a run must be billed exactly once, or not at all when
it does not complete.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from golden_path.db import events, messages, runs, threads, usage, users
from golden_path.db.scope import Database
from golden_path.ids import RequestID, RunID, ThreadID, UserID
from golden_path.protocol import GOLDEN_EVENTS, AgentErrorCode, ErrorCode, EventType, RunStatus
from golden_path.server.clock import utcnow
from golden_path.server.config import Settings
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.refusal import Refusal
from golden_path.server.runs.admission import quota_upgrade
from golden_path.server.runs.limits import MessageRateLimiter
from golden_path.server.runs.service import RunService, Submitted
from golden_path.server.state import ServerState
from golden_path.server.ws.hub import Hub
from golden_path.services.model import Services
from golden_path.testing.v1.contract import assert_events
from golden_path.tiers import TIER_LIMITS, TIER_ORDER, Tier, Tool
from tests.integration.server.conftest import WAIT_S, NewUser, Recorder

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a user's message becomes a streamed, persisted, correctly billed answer "
        "on every plan, with the plan's tools and an upgrade prompt for the rest",
        revenue_impact="this is the product's revenue path: a lost answer, a double bill or a "
        "paid tool given away free hits conversion and billing directly",
    ),
]

TIERS = pytest.mark.parametrize("tier", TIER_ORDER, ids=lambda t: t.value)
WORKLOAD = "We use gpt-4o at 2M tokens/day with 70% input tokens. What does that cost us?"
SAVE = "We use gpt-4o at 2M tokens/day. How can we optimize and save?"
TERMINAL = {EventType.AGENT_COMPLETED.value, EventType.AGENT_ERROR.value}


def _wire(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a client would decode it from the wire (JSON)."""
    return json.loads(json.dumps(event))


class Node:
    """One server node's run machinery: hub (listening), rate limiter and run service."""

    def __init__(self, service: RunService, hub: Hub, client: aioredis.Redis) -> None:
        self.service = service
        self.hub = hub
        self.client = client

    def watch(self, user: users.User, name: str = "socket") -> Recorder:
        recorder = Recorder(name)
        self.hub.attach(str(user.id), recorder)
        return recorder

    async def submit(
        self,
        user: users.User,
        content: str = WORKLOAD,
        *,
        tier: Tier | None = None,
        thread_id: str | None = None,
        request_id: str | None = None,
    ) -> Submitted | Refusal:
        return await self.service.submit(
            user_id=user.id,
            tier=tier or user.tier,
            content=content,
            thread_id=thread_id,
            request_id=RequestID(request_id) if request_id else None,
        )


MakeNode = Callable[..., Awaitable[Node]]


@pytest.fixture
async def make_node(
    gp_services: Services, pool: asyncpg.Pool, keys: RedisKeys
) -> AsyncIterator[MakeNode]:
    made: list[Node] = []
    databases: list[Database] = []

    async def make(
        *,
        node_id: str = "node-a",
        run_timeout_s: float = 30.0,
        step_delay_s: float = 0.0,
        scoped: bool = False,
    ) -> Node:
        source: asyncpg.Pool | Database = pool
        if scoped:
            # What the server runs on: tenant-scoped transactions under row-level security.
            source = await Database.open(gp_services.postgres_dsn, 5)
            databases.append(source)
        client = aioredis.Redis.from_url(gp_services.redis_url)
        hub = Hub(client, keys, node_id)
        service = RunService(
            source,
            hub,
            MessageRateLimiter(client, keys),
            node_id,
            run_timeout_s=run_timeout_s,
            step_delay_s=step_delay_s,
        )

        hub.start(service.on_control)
        node = Node(service, hub, client)
        made.append(node)
        await asyncio.wait_for(hub.listening.wait(), WAIT_S)
        return node

    try:
        yield make
    finally:
        for node in made:
            await node.service.drain(grace_s=WAIT_S)
            await node.hub.stop()
            await node.client.aclose()
        for database in databases:
            await database.close()


async def _finished(pool: asyncpg.Pool, user_id: UserID, run_id: str) -> runs.Run:
    async with pool.acquire() as conn:
        run = await runs.get(conn, user_id, run_id)
    assert run is not None
    return run


async def _ledger_rows(pool: asyncpg.Pool, run_id: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM usage_ledger WHERE run_id = $1", run_id)


async def _written(pool: asyncpg.Pool, user_id: UserID) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {
            table: int(
                await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", user_id)  # noqa: S608
            )
            for table in ("runs", "messages", "threads", "events", "usage_ledger")
        }


def _tools_run(run_events: list[dict[str, Any]]) -> list[str]:
    return [e["tool_name"] for e in run_events if e["type"] == EventType.TOOL_EXECUTING.value]


# -- the golden path ----------------------------------------------------------------------


@pytest.mark.parametrize("scoped", [False, True], ids=["pool", "rls-database"])
@TIERS
async def test_a_message_becomes_a_persisted_billed_answer(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool, tier: Tier, scoped: bool
) -> None:
    node = await make_node(scoped=scoped)
    user = await new_user(tier)
    socket = node.watch(user)

    submitted = await node.submit(user, request_id=f"golden-{tier.value}")
    assert isinstance(submitted, Submitted)
    assert submitted.replayed is False
    run_id = submitted.run.id
    terminal = await socket.terminal(run_id)
    assert terminal["type"] == EventType.AGENT_COMPLETED.value

    streamed = socket.of_run(run_id)
    assert_events(streamed, first_seq=1)
    assert {e["type"] for e in streamed} >= {t.value for t in GOLDEN_EVENTS}
    assert [e["seq"] for e in streamed] == list(range(1, len(streamed) + 1))
    assert all(e["run_id"] == run_id and e["user_id"] == user.id for e in streamed)

    async with pool.acquire() as conn:
        persisted = await events.for_run(conn, user.id, run_id)
        stream = await events.after(conn, user.id, 0)
        thread_messages = await messages.for_thread(conn, user.id, submitted.run.thread_id)
        thread = await threads.get(conn, user.id, submitted.run.thread_id)
    assert [e["event_id"] for e in persisted] == [e["event_id"] for e in streamed]
    assert persisted == [_wire(e) for e in streamed]
    assert stream == persisted

    run = await _finished(pool, user.id, run_id)
    reported = terminal["usage"]
    assert run.status is RunStatus.SUCCEEDED
    assert run.error_code is None
    assert run.result == terminal["result"]
    assert (run.input_tokens, run.output_tokens, run.cost_usd) == (
        reported["input_tokens"],
        reported["output_tokens"],
        reported["cost_usd"],
    )
    assert run.input_tokens > 0
    assert run.output_tokens > 0
    assert run.cost_usd > 0
    assert run.finished_at is not None

    ledger = await _ledger_rows(pool, run_id)
    assert len(ledger) == 1
    assert ledger[0]["user_id"] == user.id
    assert (
        ledger[0]["day"] == datetime.now(UTC).date() or ledger[0]["day"] == run.finished_at.date()
    )
    assert (ledger[0]["input_tokens"], ledger[0]["output_tokens"]) == (
        run.input_tokens,
        run.output_tokens,
    )
    assert float(ledger[0]["cost_usd"]) == run.cost_usd

    assert thread is not None
    assert thread.title == threads.title_from(WORKLOAD)
    # The answer is activity: the thread moved after its creation (with the question).
    assert thread.last_activity_at > thread.created_at
    assert [(m["role"], m["content"], m["run_id"]) for m in thread_messages] == [
        ("user", WORKLOAD, run_id),
        ("assistant", terminal["final_response"], run_id),
    ]
    assert thread_messages[0]["message_id"] == streamed[0]["message_id"]


@TIERS
async def test_a_repeated_request_id_replays_the_same_run_without_billing_again(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool, tier: Tier
) -> None:
    node = await make_node()
    user = await new_user(tier)
    socket = node.watch(user)
    first = await node.submit(user, request_id="pay-once")
    assert isinstance(first, Submitted)
    await socket.terminal(first.run.id)
    before = await _written(pool, user.id)

    again = await node.submit(user, request_id="pay-once")
    assert isinstance(again, Submitted)
    assert again.replayed is True
    assert again.run.id == first.run.id
    assert again.run.status is RunStatus.SUCCEEDED
    assert await _written(pool, user.id) == before
    assert len(await _ledger_rows(pool, first.run.id)) == 1
    assert node.service.in_flight == 0


async def test_a_replay_while_the_run_is_still_going_does_not_start_another(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(step_delay_s=0.05)
    user = await new_user(Tier.MID)
    socket = node.watch(user)
    first = await node.submit(user, request_id="double-click")
    again = await node.submit(user, request_id="double-click")
    assert isinstance(first, Submitted)
    assert isinstance(again, Submitted)
    assert again.replayed
    assert again.run.id == first.run.id
    await socket.terminal(first.run.id)
    assert_events(socket.events, first_seq=1)
    assert len(socket.events) == len(socket.of_run(first.run.id))
    assert (await _written(pool, user.id))["runs"] == 1
    assert len(await _ledger_rows(pool, first.run.id)) == 1


async def test_a_follow_up_in_the_thread_continues_the_users_stream(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node()
    user = await new_user(Tier.EARLY)
    socket = node.watch(user)
    first = await node.submit(user)
    assert isinstance(first, Submitted)
    await socket.terminal(first.run.id)
    follow_up = "And what if we moved half of it to gpt-4o-mini?"
    second = await node.submit(user, follow_up, thread_id=first.run.thread_id)
    assert isinstance(second, Submitted)
    assert second.run.thread_id == first.run.thread_id
    await socket.terminal(second.run.id)

    assert_events(socket.events, first_seq=1)
    first_len = len(socket.of_run(first.run.id))
    assert socket.of_run(second.run.id)[0]["seq"] == first_len + 1
    async with pool.acquire() as conn:
        listed = await messages.for_thread(conn, user.id, first.run.thread_id)
        persisted = await events.after(conn, user.id, 0)
    assert [m["role"] for m in listed] == ["user", "assistant", "user", "assistant"]
    assert listed[2]["content"] == follow_up
    assert [e["event_id"] for e in persisted] == [e["event_id"] for e in socket.events]
    assert (await _written(pool, user.id))["usage_ledger"] == 2


# -- what is refused before anything is written -------------------------------------------


@TIERS
async def test_message_length_limit_per_tier(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool, tier: Tier
) -> None:
    node = await make_node()
    user = await new_user(tier)
    socket = node.watch(user)
    limit = TIER_LIMITS[tier].max_message_chars
    at_limit = (WORKLOAD + " " + "x" * limit)[:limit]
    assert len(at_limit) == limit

    too_long = await node.submit(user, at_limit + "y")
    assert isinstance(too_long, Refusal)
    assert too_long.code is ErrorCode.MESSAGE_TOO_LONG
    assert too_long.retryable is False
    assert str(limit) in too_long.message
    assert await _written(pool, user.id) == {
        "runs": 0,
        "messages": 0,
        "threads": 0,
        "events": 0,
        "usage_ledger": 0,
    }

    accepted = await node.submit(user, at_limit)
    assert isinstance(accepted, Submitted)
    assert (await socket.terminal(accepted.run.id))["type"] == EventType.AGENT_COMPLETED.value
    async with pool.acquire() as conn:
        stored = await messages.for_thread(conn, user.id, accepted.run.thread_id)
    assert stored[0]["content"] == at_limit


@TIERS
async def test_rate_limited_messages_are_refused_and_write_nothing(
    make_node: MakeNode,
    new_user: NewUser,
    pool: asyncpg.Pool,
    redis: aioredis.Redis,
    keys: RedisKeys,
    tier: Tier,
) -> None:
    node = await make_node()
    user = await new_user(tier)
    allowed = TIER_LIMITS[tier].messages_per_minute
    minute = int(time.time() // 60)
    # The allowance is used up in this minute and the next (the test may cross a minute).
    for m in (minute, minute + 1):
        await redis.set(keys.message_rate(str(user.id), m), allowed, ex=180)

    refused = await node.submit(user)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.RATE_LIMITED
    assert refused.retryable is True
    assert refused.retry_after_ms is not None
    assert 0 < refused.retry_after_ms <= 60_000
    assert (await _written(pool, user.id))["runs"] == 0


@TIERS
async def test_the_daily_quota_is_refused_with_an_upgrade(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool, tier: Tier
) -> None:
    node = await make_node()
    user = await new_user(tier)
    async with pool.acquire() as conn:
        thread = await threads.create(conn, user.id, "history")
        await conn.execute(
            "INSERT INTO runs (id, user_id, thread_id, request_id, message_id, status) "
            "SELECT 'run_' || md5(random()::text || g), $1, $2, 'q-' || g, "
            "'msg_' || md5(random()::text || g), 'succeeded' FROM generate_series(1, $3) AS g",
            user.id,
            thread.id,
            TIER_LIMITS[tier].runs_per_day,
        )
    before = await _written(pool, user.id)
    refused = await node.submit(user)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.QUOTA_EXCEEDED
    assert refused.upgrade == quota_upgrade(tier)
    assert (refused.upgrade is None) == (tier is Tier.ENTERPRISE)
    assert await _written(pool, user.id) == before


async def test_a_second_run_over_the_concurrency_limit_is_refused(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(step_delay_s=0.2)
    user = await new_user(Tier.FREE)
    socket = node.watch(user)
    running = await node.submit(user)
    assert isinstance(running, Submitted)
    second = await node.submit(user, "another question about gpt-4o")
    assert isinstance(second, Refusal)
    assert second.code is ErrorCode.CONCURRENCY_LIMIT
    assert second.upgrade is None
    # Stop the first run (it may end cancelled, or completed if the cancel is lost).
    await socket.wait_for(lambda e: e["type"] == EventType.AGENT_THINKING.value)
    assert await node.service.cancel(running.run.id, user.id)
    await socket.terminal(running.run.id)
    assert (await _written(pool, user.id))["runs"] == 1


@pytest.mark.parametrize("whose", ["unknown", "foreign", "archived"])
async def test_threads_that_cannot_take_a_message(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool, whose: str
) -> None:
    node = await make_node()
    user, stranger = await new_user(Tier.MID), await new_user(Tier.MID)
    async with pool.acquire() as conn:
        if whose == "unknown":
            thread_id = str(ThreadID.new())
        elif whose == "foreign":
            thread_id = (await threads.create(conn, stranger.id, "theirs")).id
        else:
            thread_id = (await threads.create(conn, user.id, "old")).id
            await threads.archive(conn, user.id, thread_id)
    before = await _written(pool, user.id)
    refused = await node.submit(user, thread_id=thread_id)
    assert isinstance(refused, Refusal)
    expected = ErrorCode.THREAD_ARCHIVED if whose == "archived" else ErrorCode.THREAD_NOT_FOUND
    assert refused.code is expected
    assert await _written(pool, user.id) == before


# -- runs that do not complete ------------------------------------------------------------


async def test_cancelling_a_slow_run_ends_it_cancelled_and_unbilled(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(node_id="node-runner", step_delay_s=0.2)
    # The user's socket on another node sees the first thought a Redis hop later, while
    # the run waits for its next step (as a user pressing "stop" would). (Cancelling
    # inside a COMMIT is covered in test_scoped_transactions.)
    elsewhere = await make_node(node_id="node-viewer")
    user = await new_user(Tier.EARLY)
    socket = elsewhere.watch(user)
    submitted = await node.submit(user, SAVE)
    assert isinstance(submitted, Submitted)
    run_id = submitted.run.id
    await socket.wait_for(lambda e: e["type"] == EventType.AGENT_THINKING.value)
    assert await node.service.cancel(run_id, user.id) is True

    terminal = await socket.terminal(run_id)
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    assert terminal["retryable"] is False
    assert_events(socket.of_run(run_id), first_seq=1)

    run = await _finished(pool, user.id, run_id)
    assert run.status is RunStatus.CANCELLED
    assert run.error_code == AgentErrorCode.CANCELLED.value
    assert (run.input_tokens, run.output_tokens, run.cost_usd) == (0, 0, 0.0)
    assert await _ledger_rows(pool, run_id) == []
    async with pool.acquire() as conn:
        persisted = await events.for_run(conn, user.id, run_id)
        roles = [m["role"] for m in await messages.for_thread(conn, user.id, run.thread_id)]
    assert [e["event_id"] for e in persisted] == [e["event_id"] for e in socket.of_run(run_id)]
    assert roles == ["user"]  # no answer was stored
    assert await node.service.cancel(run_id, user.id) is False
    # The slot is free again (and that run is cancelled too, so the teardown need not wait
    # out its slow steps).
    again = await node.submit(user)
    assert isinstance(again, Submitted)
    assert await node.service.cancel(again.run.id, user.id) is True


async def test_a_cancel_sent_as_soon_as_an_event_arrives_is_not_lost(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    """A client cancelling the moment it sees ``agent_started`` must get a cancelled run.

    The subscriber here is on the run's own node, so it is woken while the run
    task is inside ``Hub.publish`` (Redis ``PUBLISH``). ``RunService.cancel``
    answers True; the run must then end ``cancelled`` and unbilled, not complete.
    """
    node = await make_node(step_delay_s=0.2)
    user = await new_user(Tier.EARLY)
    socket = node.watch(user)
    submitted = await node.submit(user, SAVE)
    assert isinstance(submitted, Submitted)
    run_id = submitted.run.id
    await socket.wait_for(lambda e: e["type"] == EventType.AGENT_STARTED.value)
    assert await node.service.cancel(run_id, user.id) is True

    terminal = await socket.terminal(run_id)
    run = await _finished(pool, user.id, run_id)
    billed = await _ledger_rows(pool, run_id)
    assert (terminal["type"], terminal.get("code"), run.status, len(billed)) == (
        EventType.AGENT_ERROR.value,
        AgentErrorCode.CANCELLED.value,
        RunStatus.CANCELLED,
        0,
    ), "cancel() said True, yet the run went on to complete and was billed"


async def test_cancel_of_a_run_not_on_this_node_is_false(
    make_node: MakeNode, new_user: NewUser
) -> None:
    node = await make_node()
    user = await new_user()
    assert await node.service.cancel(RunID.new(), user.id) is False


async def test_nobody_cancels_another_users_run(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(node_id="node-runner", step_delay_s=0.1)
    other = await make_node(node_id="node-other")
    owner, intruder = await new_user(Tier.MID), await new_user(Tier.MID)
    socket = node.watch(owner)
    submitted = await node.submit(owner)
    assert isinstance(submitted, Submitted)
    assert await node.service.cancel(submitted.run.id, intruder.id) is False
    # The same refusal when the intruder's request comes through another node.
    assert await other.hub.send_control({"cancel": submitted.run.id, "user_id": intruder.id})
    terminal = await socket.terminal(submitted.run.id)
    assert terminal["type"] == EventType.AGENT_COMPLETED.value
    assert (await _finished(pool, owner.id, submitted.run.id)).status is RunStatus.SUCCEEDED


async def test_a_cancel_from_another_node_reaches_the_run(
    gp_services: Services,
    keys: RedisKeys,
    make_node: MakeNode,
    new_user: NewUser,
    pool: asyncpg.Pool,
) -> None:
    runner = await make_node(node_id="node-runner", step_delay_s=0.2)
    other = await make_node(node_id="node-other")
    user = await new_user(Tier.MID)
    on_other = other.watch(user, "socket on the other node")
    submitted = await runner.submit(user)
    assert isinstance(submitted, Submitted)
    await on_other.wait_for(lambda e: e["type"] == EventType.AGENT_THINKING.value)

    assert await other.hub.send_control({"cancel": submitted.run.id, "user_id": user.id})
    terminal = await on_other.terminal(submitted.run.id)
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    assert (await _finished(pool, user.id, submitted.run.id)).status is RunStatus.CANCELLED


async def test_request_cancel_on_another_node_forwards_it_to_the_runs_node(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    """The run service owns a cancel end to end: the node the client is on finds the run
    running elsewhere (in PostgreSQL) and asks that node over the control channel."""
    runner = await make_node(node_id="node-runner", step_delay_s=0.2)
    other = await make_node(node_id="node-other")
    user = await new_user(Tier.MID)
    on_other = other.watch(user, "socket on the other node")
    submitted = await runner.submit(user)
    assert isinstance(submitted, Submitted)
    await on_other.wait_for(lambda e: e["type"] == EventType.AGENT_THINKING.value)

    assert await other.service.request_cancel(submitted.run.id, user.id) is None
    terminal = await on_other.terminal(submitted.run.id)
    assert terminal["code"] == AgentErrorCode.CANCELLED.value
    assert (await _finished(pool, user.id, submitted.run.id)).status is RunStatus.CANCELLED


async def test_request_cancel_of_no_running_run_is_refused_with_invalid_message(
    make_node: MakeNode, new_user: NewUser
) -> None:
    node = await make_node()
    owner, intruder = await new_user(Tier.MID), await new_user(Tier.MID)
    socket = node.watch(owner)
    submitted = await node.submit(owner)
    assert isinstance(submitted, Submitted)
    # Another user's run is no run of theirs: refused, and the run goes on.
    refused = await node.service.request_cancel(submitted.run.id, intruder.id)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.INVALID_MESSAGE
    assert refused.details == [{"field": "run_id", "problem": "not a running run of this user"}]
    await socket.terminal(submitted.run.id)
    # A finished run cannot be cancelled either.
    finished = await node.service.request_cancel(submitted.run.id, owner.id)
    assert isinstance(finished, Refusal)
    assert finished.code is ErrorCode.INVALID_MESSAGE


async def test_a_run_past_its_timeout_ends_in_a_retryable_timeout(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(run_timeout_s=0.3, step_delay_s=0.2)
    user = await new_user(Tier.ENTERPRISE)
    socket = node.watch(user)
    submitted = await node.submit(user, SAVE)
    assert isinstance(submitted, Submitted)
    terminal = await socket.terminal(submitted.run.id)
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.TIMEOUT.value
    assert terminal["retryable"] is True
    assert_events(socket.of_run(submitted.run.id), first_seq=1)
    run = await _finished(pool, user.id, submitted.run.id)
    assert run.status is RunStatus.FAILED
    assert run.error_code == AgentErrorCode.TIMEOUT.value
    assert await _ledger_rows(pool, submitted.run.id) == []


# -- shutdown -----------------------------------------------------------------------------


async def test_drain_with_nothing_running_returns_at_once_and_refuses_new_work(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node()
    user = await new_user(Tier.MID)
    # A grace of a minute must not be waited for when nothing runs.
    await asyncio.wait_for(node.service.drain(grace_s=60), 2)
    assert node.service.accepting is False
    refused = await node.submit(user)
    assert isinstance(refused, Refusal)
    assert refused.code is ErrorCode.UNAVAILABLE
    assert refused.retryable is True
    assert (await _written(pool, user.id))["runs"] == 0


async def test_drain_lets_a_short_run_finish(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(step_delay_s=0.02)
    user = await new_user(Tier.EARLY)
    socket = node.watch(user)
    submitted = await node.submit(user)
    assert isinstance(submitted, Submitted)
    await asyncio.wait_for(node.service.drain(grace_s=WAIT_S), WAIT_S + 1)
    assert node.service.in_flight == 0
    terminal = await socket.terminal(submitted.run.id)
    assert terminal["type"] == EventType.AGENT_COMPLETED.value
    assert len(await _ledger_rows(pool, submitted.run.id)) == 1


async def test_drain_interrupts_a_run_that_outlives_the_grace(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node(step_delay_s=0.5)
    user = await new_user(Tier.EARLY)
    socket = node.watch(user)
    submitted = await node.submit(user, SAVE)
    assert isinstance(submitted, Submitted)
    await socket.wait_for(lambda e: e["type"] == EventType.AGENT_STARTED.value)
    await asyncio.wait_for(node.service.drain(grace_s=0.1), WAIT_S)
    terminal = await socket.terminal(submitted.run.id)
    assert terminal["type"] == EventType.AGENT_ERROR.value
    assert terminal["code"] == AgentErrorCode.INTERRUPTED.value
    assert terminal["retryable"] is True
    assert_events(socket.of_run(submitted.run.id), first_seq=1)
    run = await _finished(pool, user.id, submitted.run.id)
    assert run.status is RunStatus.INTERRUPTED
    assert await _ledger_rows(pool, submitted.run.id) == []


# -- tools by tier ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "content", "tools", "required"),
    [
        (Tier.FREE, SAVE, [Tool.USAGE_ANALYZER], Tier.EARLY),
        (Tier.EARLY, SAVE, [Tool.USAGE_ANALYZER, Tool.COST_OPTIMIZER], None),
        (Tier.FREE, WORKLOAD, [Tool.USAGE_ANALYZER], None),
        (
            Tier.EARLY,
            "We use gpt-4o at 2M tokens/day. Build a report for the team.",
            [Tool.USAGE_ANALYZER],
            Tier.MID,
        ),
        (
            Tier.MID,
            "We use gpt-4o at 2M tokens/day. Forecast our spend trend.",
            [Tool.USAGE_ANALYZER],
            Tier.ENTERPRISE,
        ),
        (
            Tier.ENTERPRISE,
            "We use gpt-4o at 2M tokens/day. Forecast our spend trend.",
            [Tool.USAGE_ANALYZER, Tool.ADVANCED_ANALYTICS],
            None,
        ),
    ],
    ids=["free-save", "early-save", "free-usage", "early-report", "mid-forecast", "ent-forecast"],
)
async def test_only_the_tiers_tools_run_and_the_rest_prompt_an_upgrade(
    make_node: MakeNode,
    new_user: NewUser,
    tier: Tier,
    content: str,
    tools: list[Tool],
    required: Tier | None,
) -> None:
    node = await make_node()
    user = await new_user(tier)
    socket = node.watch(user)
    submitted = await node.submit(user, content)
    assert isinstance(submitted, Submitted)
    terminal = await socket.terminal(submitted.run.id)
    assert terminal["type"] == EventType.AGENT_COMPLETED.value
    run_events = socket.of_run(submitted.run.id)
    assert_events(run_events, first_seq=1)
    assert _tools_run(run_events) == [t.value for t in tools]
    assert all(t in TIER_LIMITS[tier].tools for t in tools)
    if required is None:
        assert "upgrade" not in terminal
    else:
        assert terminal["upgrade"]["required_tier"] == required.value
        assert terminal["upgrade"]["feature"] not in {t.value for t in TIER_LIMITS[tier].tools}


# -- two nodes, and the server's own wiring -----------------------------------------------


async def test_a_run_on_one_node_streams_to_the_users_socket_on_another(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    runner = await make_node(node_id="node-a")
    viewer = await make_node(node_id="node-b")
    user, bystander = await new_user(Tier.MID), await new_user(Tier.MID)
    local, remote = runner.watch(user, "socket on node-a"), viewer.watch(user, "socket on node-b")
    unrelated = viewer.watch(bystander, "another user's socket on node-b")

    submitted = await runner.submit(user)
    assert isinstance(submitted, Submitted)
    await local.terminal(submitted.run.id)
    await remote.terminal(submitted.run.id)
    assert [e["event_id"] for e in remote.events] == [e["event_id"] for e in local.events]
    assert remote.events == [_wire(e) for e in local.events]
    assert_events(remote.events, first_seq=1)
    assert unrelated.events == []


async def test_server_state_wires_the_run_service_hub_and_control_channel(
    gp_services: Services,
    keys: RedisKeys,
    make_node: MakeNode,
    new_user: NewUser,
    pool: asyncpg.Pool,
) -> None:
    settings = Settings(
        postgres_dsn=gp_services.postgres_dsn,
        redis_url=gp_services.redis_url,
        redis_prefix=keys.prefix,
        jwt_secret="state-test-secret-that-is-long-enough-for-hs256",
        agent_step_delay_ms=200,
        db_pool_size=3,
        node_id="node-state",
    ).validated()
    state = await ServerState.open(settings)
    closed = False
    try:
        await asyncio.wait_for(state.hub.listening.wait(), WAIT_S)
        other = await make_node(node_id="node-peer")
        user = await new_user(Tier.EARLY)
        on_state, on_peer = Recorder("state socket"), other.watch(user, "peer socket")
        state.hub.attach(str(user.id), on_state)

        submitted = await state.runs.submit(
            user_id=user.id, tier=user.tier, content=SAVE, thread_id=None, request_id=None
        )
        assert isinstance(submitted, Submitted)
        await on_peer.wait_for(lambda e: e["type"] == EventType.AGENT_THINKING.value)
        # The peer node asks the state's node to cancel; its run service's on_control does it.
        assert await other.hub.send_control({"cancel": submitted.run.id, "user_id": user.id})
        terminal = await on_state.terminal(submitted.run.id)
        assert terminal["code"] == AgentErrorCode.CANCELLED.value
        await on_peer.terminal(submitted.run.id)

        await state.close(grace_s=1)
        closed = True
        assert state.runs.accepting is False
        assert (await _finished(pool, user.id, submitted.run.id)).status is RunStatus.CANCELLED
    finally:
        if not closed:
            await state.close(grace_s=1)


async def test_usage_history_of_earlier_runs_reaches_the_ledger_by_day(
    make_node: MakeNode, new_user: NewUser, pool: asyncpg.Pool
) -> None:
    node = await make_node()
    user = await new_user(Tier.ENTERPRISE)
    socket = node.watch(user)
    totals = {"input_tokens": 0, "output_tokens": 0}
    for n in range(3):
        submitted = await node.submit(user, f"{WORKLOAD} Question {n}.")
        assert isinstance(submitted, Submitted)
        done = await socket.terminal(submitted.run.id)
        totals["input_tokens"] += done["usage"]["input_tokens"]
        totals["output_tokens"] += done["usage"]["output_tokens"]
    async with pool.acquire() as conn:
        days = await usage.by_day(conn, user.id, None, None)
    assert sum(d["runs"] for d in days) == 3
    assert sum(d["input_tokens"] for d in days) == totals["input_tokens"]
    assert sum(d["output_tokens"] for d in days) == totals["output_tokens"]
    assert days[-1]["day"] == utcnow().date().isoformat() or len(days) == 2
    assert_events(socket.events, first_seq=1)
