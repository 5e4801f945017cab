"""The floor's second half: one run's PostgreSQL writes, issued directly, no server around them.

The writes ``RunService`` makes for a run, through the server's own functions: its
admission (``admit``), one transaction per non-terminal event (``events.append``), and
its end (``record_completion``), each event built by ``RunScope.event`` and each
transaction scoped as the server scopes it. The run's one read (its usage history,
between ``agent_started`` and the agent) is not part of the floor. The events are those
of a run the server completed in phase 1a, re-addressed to a run of their own. They go
to an embedded PostgreSQL of their own, on one connection: median of 200 (also timed
borrowing from the pool for each transaction, as the server does).

Not on Locust: no load at all, the server's own functions called in this process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bench.load import processes
from bench.load.settings import CONTENT, TIER, WRITES_RUNS, WRITES_WARMUP, BenchError
from golden_path.agent import Completion, SpendOptimizationAgent, Usage
from golden_path.db import events, users
from golden_path.db.migrate import migrate_dsn
from golden_path.db.pool import Conn
from golden_path.db.scope import Database, scoped
from golden_path.ids import RequestID, RunID, ThreadID, UserID
from golden_path.protocol import EventType
from golden_path.server.clock import utcnow
from golden_path.server.runs.admission import Admitted, admit
from golden_path.server.runs.completion import record_completion
from golden_path.server.runs.events import RunScope
from golden_path.services.embedded import EmbeddedProvider

AGENT_NAME = SpendOptimizationAgent().name  # the name the server's runs carry


@dataclass(frozen=True)
class RunTemplate:
    """A completed run's events without the fields ``RunScope.event`` sets for each run."""

    steps: list[tuple[EventType, dict[str, Any]]]  # the non-terminal events, in order
    completed: dict[str, Any]  # ``agent_completed``'s own fields
    completion: Completion


@dataclass
class WritesResult:
    """Milliseconds per run of the writes, on one connection and borrowing from the pool."""

    transactions: int
    one_connection_ms: list[float]
    pool_ms: list[float]


def template_of(sample_run: list[dict[str, Any]]) -> RunTemplate:
    """What is left of ``sample_run``'s events once a run's own fields (and ``seq``) go."""
    some_run = RunScope(UserID.new(), ThreadID.new(), RunID.new(), RequestID.new(), AGENT_NAME)
    common = set(some_run.event(EventType.AGENT_STARTED)) | {"seq"}

    def own(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if k not in common}

    *steps, done = sample_run
    if done.get("type") != EventType.AGENT_COMPLETED.value:
        raise BenchError(f"the sample run ends with {done.get('type')!r}, not agent_completed")
    spent = done["usage"]
    completion = Completion(
        final_response=str(done["final_response"]),
        result=done["result"],
        usage=Usage(int(spent["input_tokens"]), int(spent["output_tokens"]), spent["cost_usd"]),
        upgrade=None,
    )
    return RunTemplate([(EventType(e["type"]), own(e)) for e in steps], own(done), completion)


async def run_writes(
    borrow: Callable[[], AbstractAsyncContextManager[Conn]],
    user_id: UserID,
    template: RunTemplate,
) -> None:
    """The PostgreSQL writes of one run, as ``RunService`` makes them (see its module)."""
    now = utcnow()
    async with borrow() as conn:
        admitted = await admit(
            conn,
            user_id=user_id,
            tier=TIER,
            content=CONTENT,
            thread_id=None,
            request_id=RequestID.new(),
            node_id="bench",
            now=now,
        )
    if not isinstance(admitted, Admitted):
        raise BenchError(f"the floor's run was not admitted: {admitted}")
    run = admitted.run
    scope = RunScope(run.user_id, run.thread_id, run.id, run.request_id, AGENT_NAME)
    for event_type, fields in template.steps:  # one transaction per non-terminal event
        async with borrow() as conn:
            await events.append(conn, user_id, run.id, scope.event(event_type, **fields))
    done = scope.event(EventType.AGENT_COMPLETED, **template.completed)
    async with borrow() as conn:  # the end, in one transaction
        await record_completion(conn, scope, template.completion, done, now.date())


async def time_writes(dsn: str, sample_run: list[dict[str, Any]]) -> WritesResult:
    """Median-ready timings of one run's writes on one connection and through the pool."""
    template = template_of(sample_run)
    await migrate_dsn(dsn)
    db = await Database.open(dsn, 10)  # the server's pool and role
    try:
        async with db.pool.acquire() as conn:
            async with scoped(conn, system=True, role=db.app_role):
                user = await users.create(conn, f"bench-{RunID.new()}@bench.test", "-")
                await users.set_tier(conn, user.id, TIER)

            @asynccontextmanager
            async def same_connection() -> AsyncIterator[Conn]:
                async with scoped(conn, user_id=user.id, role=db.app_role) as c:
                    yield c

            def pooled() -> AbstractAsyncContextManager[Conn]:
                return db.as_user(user.id)

            timings: dict[str, list[float]] = {"one": [], "pool": []}
            for number in range(WRITES_WARMUP + WRITES_RUNS):
                for name, borrow in (("one", same_connection), ("pool", pooled)):
                    began = time.perf_counter()
                    await run_writes(borrow, user.id, template)
                    if number >= WRITES_WARMUP:
                        timings[name].append((time.perf_counter() - began) * 1000)
    finally:
        await db.close()
    return WritesResult(
        transactions=2 + len(template.steps),
        one_connection_ms=timings["one"],
        pool_ms=timings["pool"],
    )


def floor_writes(sample_run: list[dict[str, Any]]) -> WritesResult:
    """Time the writes on an embedded PostgreSQL of their own, stopped whatever happens."""
    provider = EmbeddedProvider()
    try:
        services = provider.start()  # stops what it started itself if interrupted
        return asyncio.run(time_writes(services.postgres_dsn, sample_run))
    finally:
        with processes.signals_held():
            provider.stop()
