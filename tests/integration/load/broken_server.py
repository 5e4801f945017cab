"""A tiny server that speaks protocol v1's shape but breaks its contract one way: a run whose
``tool_executing`` repeats the ``seq`` of the ``agent_thinking`` before it.

Just enough of the protocol for ``golden-path load``: signup, login and upgrade answer with
tokens; ``/ws`` sends ``connection_established``, then a run's six events for each
``user_message`` and the user's stored events for a ``resume``. Everything else is valid,
so the one rule it breaks (``seq_not_increasing``) is what the load must name.

``make_app(broken=False, trust=verify)`` is the same server keeping the contract, and
trusting only the tokens ``verify`` accepts (it returns the user, or None: the socket is
closed 4401): a team's server behind its own identity provider, with no signup at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

BROKEN_RULE = "seq_not_increasing"


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def broken_run(
    user_id: str, request_id: str, first_seq: int, broken: bool = True
) -> list[dict[str, Any]]:
    """A complete, valid run of six events, except (``broken``) that its fourth repeats the
    third's seq."""
    common = {
        "user_id": user_id,
        "thread_id": _id("thr"),
        "run_id": _id("run"),
        "request_id": request_id,
        "agent_name": "spend_optimizer",
    }
    call = _id("tc")
    bodies: list[dict[str, Any]] = [
        {"type": "agent_started", "message_id": _id("msg")},
        {"type": "agent_thinking", "reasoning": "Plan: run usage_analyzer.", "step": 1},
        {"type": "agent_thinking", "reasoning": "Reading the usage.", "step": 2},
        {
            "type": "tool_executing",
            "tool_call_id": call,
            "tool_name": "usage_analyzer",
            "parameters": {},
        },
        {
            "type": "tool_completed",
            "tool_call_id": call,
            "tool_name": "usage_analyzer",
            "results": {},
            "success": True,
            "duration_ms": 1.0,
        },
        {
            "type": "agent_completed",
            "final_response": "Done.",
            "result": {},
            "usage": {"input_tokens": 1, "output_tokens": 1, "cost_usd": 0.0},
            "duration_ms": 2.0,
        },
    ]
    events = []
    seq = first_seq
    for number, body in enumerate(bodies):
        if number == 3 and broken:
            seq -= 1  # the break: tool_executing takes the seq agent_thinking had
        events.append({**common, **body, "event_id": _id("evt"), "timestamp": _now(), "seq": seq})
        seq += 1
    return events


class Store:
    """Each user's events, by token (a token is the user here)."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}


async def _account(request: Request) -> JSONResponse:
    if request.url.path == "/auth/signup":
        return JSONResponse({"user_id": _id("usr")}, status_code=201)
    token = f"usr_{uuid.uuid4().hex}"
    return JSONResponse({"access_token": token, "refresh_token": token, "expires_in": 900})


def make_app(broken: bool = True, trust: Callable[[str], str | None] | None = None) -> Starlette:
    store = Store()

    async def socket(ws: WebSocket) -> None:
        token = ws.headers.get("authorization", "").removeprefix("Bearer ")
        await ws.accept()
        if trust is not None:
            user = trust(token)
            if user is None:
                await ws.close(4401, "invalid token")
                return
            token = user
        history = store.events.setdefault(token, [])
        await ws.send_json(
            {
                "type": "connection_established",
                "connection_id": _id("conn"),
                "user_id": token,
                "tier": "enterprise",
                "protocol": "golden-path.v1",
                "last_seq": len(history),
            }
        )
        try:
            while True:
                frame = json.loads(await ws.receive_text())
                if frame.get("type") == "user_message":
                    run = broken_run(token, frame["request_id"], len(history) + 1, broken)
                    history.extend(run)
                    for event in run:
                        await ws.send_json(event)
                elif frame.get("type") == "resume":
                    for event in history[int(frame["after_seq"]) :]:
                        await ws.send_json(event)
        except WebSocketDisconnect:
            return

    routes = [
        Route(path, _account, methods=["POST"])
        for path in ("/auth/signup", "/auth/login", "/billing/upgrade")
    ]
    if trust is not None:
        routes = []  # no signup: only the identity provider's tokens get in
    return Starlette(routes=[*routes, WebSocketRoute("/ws", socket)])
