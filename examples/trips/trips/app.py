"""The trips service: Starlette on PostgreSQL, two ways to run the planner.

* ``WS /stream``: our own JSON events. The client sends ``{"type": "plan", "text": ...}``
  and hears ``run.started``, one ``tool.call`` per search, the answer in ``token`` events,
  then ``run.done`` once the trip is saved; every event carries ``seq`` (1, 2, ...).
  A bad token closes the socket with 4401 before anything is read.
* ``POST /agent``: the same planner over AG-UI (its ``RunAgentInput`` in, its events as
  server-sent events out).
* ``GET /trips``: the caller's saved trips. ``GET /health``: 200 once the database answers.

Settings come from the environment: ``TRIPS_DATABASE_URL`` and ``TRIPS_JWT_PUBLIC_KEY``
(PEM: this service verifies tokens, it never signs them).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from ag_ui.core import (
    EventType,
    RunAgentInput,
    RunFinishedEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from ag_ui.encoder import EventEncoder
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from trips import store
from trips.planner import BadRequest, plan_trip
from trips.tokens import Traveller, Unauthorized, bearer, verify

MAX_FRAME_BYTES = 16_384


def _public_key() -> str:
    return os.environ["TRIPS_JWT_PUBLIC_KEY"]


def _traveller(header: str | None) -> Traveller:
    return verify(bearer(header), _public_key())


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    _public_key()  # a missing key stops the start, not the first request
    pool = await asyncpg.create_pool(os.environ["TRIPS_DATABASE_URL"], min_size=1, max_size=5)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


async def health(request: Request) -> Response:
    await request.app.state.pool.fetchval("SELECT 1")
    return JSONResponse({"ok": True})


async def list_trips(request: Request) -> Response:
    try:
        traveller = _traveller(request.headers.get("authorization"))
    except Unauthorized as exc:
        return JSONResponse({"error": str(exc)}, status_code=401)
    return JSONResponse(await store.trips_of(request.app.state.pool, traveller.subject))


async def stream(websocket: WebSocket) -> None:
    query_token = websocket.query_params.get("token")
    try:
        token = query_token or bearer(websocket.headers.get("authorization"))
        traveller = verify(token, _public_key())
    except Unauthorized:
        # Accepted first: a close before the handshake is an HTTP 403 without our code.
        await websocket.accept()
        await websocket.close(code=4401, reason="invalid token")
        return
    await websocket.accept()
    seq = 0

    async def send(event: str, **fields: Any) -> None:
        nonlocal seq
        seq += 1
        await websocket.send_json({"event": event, "seq": seq, **fields})

    try:
        while True:
            raw = await websocket.receive_text()
            if len(raw) > MAX_FRAME_BYTES:
                await websocket.close(code=1009, reason="frame too large")
                return
            try:
                frame = json.loads(raw)
                if not isinstance(frame, dict) or frame.get("type") != "plan":
                    raise BadRequest('expected {"type": "plan", "text": "..."}')
                trip = plan_trip(str(frame.get("text", "")), traveller.plan)
            except (json.JSONDecodeError, BadRequest) as exc:
                await send("error", message=str(exc))
                continue
            await send("run.started", request=trip.request)
            for call in trip.calls:
                await send(
                    "tool.call", name=call.name, arguments=call.arguments, result=call.result
                )
            for piece in trip.answer_tokens:
                await send("token", text=piece)
            trip_id = await store.save(
                websocket.app.state.pool, traveller.subject, traveller.plan, trip
            )
            await send("run.done", trip_id=str(trip_id), answer=trip.answer)
    except WebSocketDisconnect:
        return


def _last_user_text(run: RunAgentInput) -> str:
    for message in reversed(run.messages):
        if message.role == "user" and isinstance(message.content, str):
            return message.content
    return ""


async def agent(request: Request) -> Response:
    try:
        traveller = _traveller(request.headers.get("authorization"))
    except Unauthorized as exc:
        return JSONResponse({"error": str(exc)}, status_code=401)
    try:
        run = RunAgentInput.model_validate_json(await request.body())
        trip = plan_trip(_last_user_text(run), traveller.plan)
    except (ValidationError, BadRequest) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    encoder = EventEncoder(accept=request.headers.get("accept") or "text/event-stream")
    pool = request.app.state.pool

    async def events() -> AsyncIterator[str]:
        yield encoder.encode(RunStartedEvent(thread_id=run.thread_id, run_id=run.run_id))
        for call in trip.calls:
            call_id = f"call-{uuid.uuid4().hex[:12]}"
            yield encoder.encode(ToolCallStartEvent(tool_call_id=call_id, tool_call_name=call.name))
            yield encoder.encode(
                ToolCallArgsEvent(tool_call_id=call_id, delta=json.dumps(call.arguments))
            )
            yield encoder.encode(ToolCallEndEvent(tool_call_id=call_id))
            yield encoder.encode(
                ToolCallResultEvent(
                    message_id=f"result-{call_id}",
                    tool_call_id=call_id,
                    content=json.dumps(call.result),
                )
            )
        message_id = f"answer-{uuid.uuid4().hex[:12]}"
        yield encoder.encode(TextMessageStartEvent(message_id=message_id, role="assistant"))
        for piece in trip.answer_tokens:
            yield encoder.encode(TextMessageContentEvent(message_id=message_id, delta=piece))
        yield encoder.encode(TextMessageEndEvent(message_id=message_id))
        await store.save(pool, traveller.subject, traveller.plan, trip)
        yield encoder.encode(
            RunFinishedEvent(
                type=EventType.RUN_FINISHED, thread_id=run.thread_id, run_id=run.run_id
            )
        )

    return StreamingResponse(events(), media_type=encoder.get_content_type())


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/trips", list_trips),
        Route("/agent", agent, methods=["POST"]),
        WebSocketRoute("/stream", stream),
    ],
    lifespan=lifespan,
)
