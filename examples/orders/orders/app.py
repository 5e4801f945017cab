"""The orders service's HTTP API (Starlette), configured by its environment.

``ORDERS_DATABASE_URL`` (PostgreSQL), ``ORDERS_REDIS_URL`` and ``ORDERS_JWT_SECRET``
(the HS256 secret its tokens are signed with) are read when the app starts, so the same
``app`` runs in-process (``gp_app``) or as ``uvicorn orders.app:app`` (``gp_server_command``).

* ``GET /health``: 200 once PostgreSQL and Redis answer;
* ``POST /orders`` ``{"items": [{"sku": "tea", "quantity": 2}]}``: the caller's order,
  priced with their plan's discount (201), and one more in their Redis counter;
* ``GET /orders/{id}``: one of the caller's orders (404 for anyone else's);
* ``GET /me``: the caller and how many orders they placed.

A missing or bad token is 401; an order that cannot be placed is 422.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orders.counter import count_order, orders_placed
from orders.pricing import OrderError, parse_lines
from orders.store import get_order, place_order
from orders.tokens import Caller, Unauthorized, bearer, verify

ENVIRONMENT = ("ORDERS_DATABASE_URL", "ORDERS_REDIS_URL", "ORDERS_JWT_SECRET")


@dataclass
class Resources:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    secret: str
    namespace: str = ""  # ORDERS_REDIS_PREFIX: what every Redis key starts with


def _environment() -> dict[str, str]:
    missing = [name for name in ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"orders: set {', '.join(missing)} in the environment")
    return {name: os.environ[name] for name in ENVIRONMENT}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    env = _environment()
    pool = await asyncpg.create_pool(env["ORDERS_DATABASE_URL"], min_size=1, max_size=5)
    client = aioredis.Redis.from_url(env["ORDERS_REDIS_URL"])
    namespace = os.environ.get("ORDERS_REDIS_PREFIX", "")
    app.state.resources = Resources(pool, client, env["ORDERS_JWT_SECRET"], namespace)
    try:
        yield
    finally:
        await client.aclose()
        await pool.close()


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _caller(request: Request) -> Caller:
    return verify(bearer(request.headers.get("authorization")), _resources(request).secret)


async def health(request: Request) -> JSONResponse:
    resources = _resources(request)
    async with resources.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    await resources.redis.ping()
    return JSONResponse({"ok": True})


async def create_order(request: Request) -> JSONResponse:
    caller = _caller(request)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    lines = parse_lines(body)
    resources = _resources(request)
    async with resources.pool.acquire() as conn:
        order = await place_order(conn, caller.subject, caller.plan, lines)
    placed = await count_order(resources.redis, caller.subject, resources.namespace)
    return JSONResponse({**order.to_json(), "orders_placed": placed}, status_code=201)


async def read_order(request: Request) -> JSONResponse:
    caller = _caller(request)
    async with _resources(request).pool.acquire() as conn:
        order = await get_order(conn, request.path_params["order_id"], caller.subject)
    if order is None:
        return JSONResponse({"error": "no such order"}, status_code=404)
    return JSONResponse(order.to_json())


async def me(request: Request) -> JSONResponse:
    caller = _caller(request)
    resources = _resources(request)
    placed = await orders_placed(resources.redis, caller.subject, resources.namespace)
    return JSONResponse({"customer": caller.subject, "plan": caller.plan, "orders_placed": placed})


async def unauthorized(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=422)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/orders", create_order, methods=["POST"]),
        Route("/orders/{order_id:int}", read_order),
        Route("/me", me),
    ],
    lifespan=lifespan,
    exception_handlers={Unauthorized: unauthorized, OrderError: unprocessable},
)
