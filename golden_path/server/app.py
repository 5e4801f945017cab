"""The ASGI application: routes, the WebSocket endpoint, and the lifespan that opens the state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import golden_path
from golden_path.agent import SpendOptimizationAgent
from golden_path.protocol import WEBSOCKET_PATH
from golden_path.server import web
from golden_path.server.agui import route as agui_route
from golden_path.server.api import auth_routes, errors, health, resources
from golden_path.server.api.body_limit import BodyLimit
from golden_path.server.api.throttle_gate import ThrottleGate
from golden_path.server.config import Settings
from golden_path.server.state import ServerState
from golden_path.server.ws.endpoint import websocket_endpoint


def create_app(
    settings: Settings | None = None, *, agent: SpendOptimizationAgent | None = None
) -> FastAPI:
    """The reference server on ``settings``; ``agent`` replaces its agent (for tests)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await ServerState.open(settings, agent)
        app.state.gp = state
        app.state.sockets = state.socket_services()
        try:
            yield
        finally:
            await state.close()

    app = FastAPI(
        title="Golden Path reference server",
        version=golden_path.__version__,
        summary="Protocol golden-path.v1: authenticate, open a WebSocket, run the agent, "
        "stream its five events, persist the answer.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ThrottleGate)  # outermost: a known-throttled flood stops here
    app.include_router(health.router)
    app.include_router(auth_routes.router)
    app.include_router(resources.router)
    app.include_router(agui_route.router)  # POST /agui: the same runs, as AG-UI events
    app.add_api_websocket_route(WEBSOCKET_PATH, websocket_endpoint)
    web.mount(app)  # the chat page at /
    return app
