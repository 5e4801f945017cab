"""``/healthz`` (the process answers) and ``/readyz`` (PostgreSQL and Redis answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from golden_path.server.api.deps import State

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: State) -> JSONResponse:
    async def postgres() -> bool:
        async with state.db.pool.acquire(timeout=CHECK_TIMEOUT_S) as conn:
            return bool(await conn.fetchval("SELECT 1", timeout=CHECK_TIMEOUT_S) == 1)

    async def redis() -> bool:
        return bool(await state.redis.ping())

    checks: dict[str, Any] = {}
    for name, probe in (("postgres", postgres), ("redis", redis)):
        try:
            checks[name] = await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        except Exception:
            checks[name] = False
    ready = all(checks.values()) and not state.shutting_down
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
