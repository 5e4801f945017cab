"""``/ws``: the WebSocket stage of the golden path, from the handshake to the session.

The handshake authenticates (``handshake``), the socket is counted against the
tier's limit (``presence``), and an admitted socket gets a :class:`SocketSession`
(``session``) that speaks the protocol until it closes. Every refusal of the
handshake happens after the upgrade, with a close code a browser can read.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.websockets import WebSocket

from golden_path.db import users
from golden_path.db.errors import DatabaseUnavailable
from golden_path.ids import ConnectionID
from golden_path.protocol import CloseCode
from golden_path.server.config import Settings
from golden_path.server.ws.connection import Connection, OutboxLimits
from golden_path.server.ws.handshake import Denied, authenticate, selected_subprotocol
from golden_path.server.ws.session import SocketServices, SocketSession


def socket_services(app: Starlette) -> SocketServices:
    """The socket layer's services, which the app's lifespan put on ``app.state.sockets``."""
    services = getattr(app.state, "sockets", None)
    if not isinstance(services, SocketServices):
        raise TypeError("the server's socket services are not open")
    return services


def outbox_limits(settings: Settings) -> OutboxLimits:
    return OutboxLimits(
        frames=settings.ws_outbox_frames,
        bytes=settings.ws_outbox_bytes,
        send_timeout_s=settings.ws_send_timeout_s,
    )


async def _deny(websocket: WebSocket, subprotocol: str | None, denied: Denied) -> None:
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=denied.close_code, reason=denied.reason)


async def websocket_endpoint(websocket: WebSocket) -> None:
    services = socket_services(websocket.app)
    subprotocol = selected_subprotocol(websocket)
    outcome = await authenticate(
        websocket, services.tokens, services.sessions, services.settings.allowed_origins
    )
    if isinstance(outcome, Denied):
        await _deny(websocket, subprotocol, outcome)
        return
    principal = outcome
    if services.sockets.closing:
        await _deny(websocket, subprotocol, Denied(CloseCode.GOING_AWAY, "server shutting down"))
        return
    connection_id = ConnectionID.new()
    limit = principal.tier.limits.open_websockets
    if not await services.presence.admit(principal.user_id, connection_id, limit):
        reason = f"the {principal.tier.value} plan allows {limit} open connections"
        await _deny(websocket, subprotocol, Denied(CloseCode.TOO_MANY_CONNECTIONS, reason))
        return
    try:
        try:
            async with services.db.as_user(principal.user_id) as conn:
                last_seq = await users.last_seq(conn, principal.user_id)
        except DatabaseUnavailable:
            await _deny(
                websocket, subprotocol, Denied(CloseCode.INTERNAL_ERROR, "database unavailable")
            )
            return
        await websocket.accept(subprotocol=subprotocol)
        connection = Connection(
            websocket,
            connection_id,
            principal,
            services.db,
            last_seq,
            outbox_limits(services.settings),
        )
        await SocketSession(services, connection).run(last_seq)
    finally:
        await services.presence.release(principal.user_id, connection_id)
