"""Trips in real PostgreSQL, on our migration: saved whole, read back per traveller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from trips.planner import plan_trip
from trips.store import save, trips_of

from golden_path.services.model import Services

pytestmark = [
    pytest.mark.stage("saved"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a planned trip is kept whole, tool calls and answer, and only its "
        "traveller reads it",
        revenue_impact="a lost itinerary is a missed flight; another traveller's on screen is "
        "a privacy incident",
    ),
]


@pytest.fixture
async def pool(gp_database: Services) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(gp_database.postgres_dsn, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "plan", [pytest.param(p, marks=pytest.mark.tier(p)) for p in ("free", "pro", "team")]
)
async def test_a_saved_trip_reads_back_with_its_tool_calls(pool: asyncpg.Pool, plan: str) -> None:
    traveller = f"t-{uuid.uuid4().hex}"
    trip = plan_trip("Oslo", plan)
    trip_id = await save(pool, traveller, plan, trip)
    [saved] = await trips_of(pool, traveller)
    assert saved == {
        "id": str(trip_id),
        "plan": plan,
        "request": "Oslo",
        "answer": trip.answer,
        "tools": [call.name for call in trip.calls],
    }


async def test_a_traveller_reads_none_of_anothers_trips(pool: asyncpg.Pool) -> None:
    alice, mallory = f"a-{uuid.uuid4().hex}", f"m-{uuid.uuid4().hex}"
    await save(pool, alice, "team", plan_trip("Nice", "team"))
    assert await trips_of(pool, mallory) == []
    assert [t["request"] for t in await trips_of(pool, alice)] == ["Nice"]
