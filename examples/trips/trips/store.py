"""PostgreSQL: a planned trip is saved whole (the trip and its tool calls in one
transaction) before the client hears that the run is done."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from trips.planner import Trip


async def save(pool: asyncpg.Pool, traveller: str, plan: str, trip: Trip) -> uuid.UUID:
    trip_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO trips (id, traveller, plan, request, answer) VALUES ($1, $2, $3, $4, $5)",
            trip_id,
            traveller,
            plan,
            trip.request,
            trip.answer,
        )
        await conn.executemany(
            "INSERT INTO tool_calls (trip_id, position, name, arguments, result)"
            " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
            [
                (trip_id, n, call.name, json.dumps(call.arguments), json.dumps(call.result))
                for n, call in enumerate(trip.calls)
            ],
        )
    return trip_id


async def trips_of(pool: asyncpg.Pool, traveller: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT t.id, t.plan, t.request, t.answer,"
        " coalesce(array_agg(c.name ORDER BY c.position) FILTER (WHERE c.name IS NOT NULL),"
        " '{}') AS tools"
        " FROM trips t LEFT JOIN tool_calls c ON c.trip_id = t.id"
        " WHERE t.traveller = $1 GROUP BY t.id ORDER BY t.created_at, t.id",
        traveller,
    )
    return [
        {
            "id": str(row["id"]),
            "plan": row["plan"],
            "request": row["request"],
            "answer": row["answer"],
            "tools": list(row["tools"]),
        }
        for row in rows
    ]
