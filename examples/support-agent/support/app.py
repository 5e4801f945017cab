"""The support desk's HTTP API (Starlette), configured by its environment.

``SUPPORT_DATABASE_URL`` (PostgreSQL), ``SUPPORT_MODEL_BASE_URL`` and
``SUPPORT_MODEL_API_KEY`` (an OpenAI-compatible chat completions API) and
``SUPPORT_JWT_SECRET`` (what our tokens are signed with) are read when the app starts,
so the same ``app`` runs in-process (``gp_app``) or as ``uvicorn support.app:app``.

* ``GET /health``: 200 once PostgreSQL answers;
* ``POST /agui``: an AG-UI run (``RunAgentInput``) of the support agent on the
  conversation ``threadId``, streamed as AG-UI events; the customer's message is stored
  when the run starts, the agent's answer only when the run completes;
* ``GET /conversations/{id}``: the caller's conversation, its messages and tool calls
  (404 for anyone else's).

A missing or bad token is 401; a body that is not a ``RunAgentInput`` 422.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from ag_ui.core import RunAgentInput
from openai import AsyncOpenAI
from pydantic import ValidationError
from pydantic_ai import Agent
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.ui.ag_ui import AGUIAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.agent import Deps, make_agent
from support.store import NotYours, add_message, history, open_conversation
from support.tokens import Caller, Unauthorized, bearer, verify

ENVIRONMENT = (
    "SUPPORT_DATABASE_URL",
    "SUPPORT_MODEL_BASE_URL",
    "SUPPORT_MODEL_API_KEY",
    "SUPPORT_JWT_SECRET",
)
MODEL = "support-model"
# Our retry policy for the model: the SDK's own, twice, honouring Retry-After.
MODEL_RETRIES = 2
MODEL_TIMEOUT_S = 30.0


@dataclass
class Resources:
    pool: asyncpg.Pool
    agent: Agent[Deps, str]
    secret: str


def _environment() -> dict[str, str]:
    missing = [name for name in ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"support: set {', '.join(missing)} in the environment")
    return {name: os.environ[name] for name in ENVIRONMENT}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    env = _environment()
    pool = await asyncpg.create_pool(env["SUPPORT_DATABASE_URL"], min_size=1, max_size=5)
    client = AsyncOpenAI(
        base_url=env["SUPPORT_MODEL_BASE_URL"],
        api_key=env["SUPPORT_MODEL_API_KEY"],
        max_retries=MODEL_RETRIES,
        timeout=MODEL_TIMEOUT_S,
    )
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))
    app.state.resources = Resources(pool, make_agent(model), env["SUPPORT_JWT_SECRET"])
    try:
        yield
    finally:
        await client.close()
        await pool.close()


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def _caller(request: Request) -> Caller:
    return verify(bearer(request.headers.get("authorization")), _resources(request).secret)


def _last_customer_message(run: RunAgentInput) -> str:
    for message in reversed(run.messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, str):
                return content
            return " ".join(str(getattr(part, "text", "")) for part in content)
    return ""


async def health(request: Request) -> Response:
    async with _resources(request).pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return JSONResponse({"ok": True})


async def agui(request: Request) -> Response:
    caller = _caller(request)
    try:
        run = RunAgentInput.model_validate_json(await request.body())
    except ValidationError as exc:
        return JSONResponse({"error": f"not an AG-UI RunAgentInput: {exc}"}, status_code=422)
    resources = _resources(request)
    async with resources.pool.acquire() as conn, conn.transaction():
        await open_conversation(conn, run.thread_id, caller.customer, caller.plan)
        await add_message(conn, run.thread_id, run.run_id, "customer", _last_customer_message(run))

    async def store_answer(result: AgentRunResult[str]) -> None:
        async with resources.pool.acquire() as conn:
            await add_message(conn, run.thread_id, run.run_id, "agent", result.output)

    deps = Deps(resources.pool, run.thread_id, run.run_id, caller.plan)
    return await AGUIAdapter.dispatch_request(
        request, agent=resources.agent, deps=deps, on_complete=store_answer
    )


async def conversation(request: Request) -> Response:
    caller = _caller(request)
    async with _resources(request).pool.acquire() as conn:
        found = await history(conn, request.path_params["conversation_id"], caller.customer)
    if found is None:
        return JSONResponse({"error": "no such conversation"}, status_code=404)
    return JSONResponse(found)


async def unauthorized(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


async def not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "no such conversation"}, status_code=404)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/agui", agui, methods=["POST"]),
        Route("/conversations/{conversation_id}", conversation),
    ],
    lifespan=lifespan,
    exception_handlers={Unauthorized: unauthorized, NotYours: not_found},
)
