"""``/ws``: the WebSocket stage of the golden path, from handshake to close.

The handshake authenticates (``handshake``), counts the socket against the
tier's limit (``presence``), and sends ``connection_established``. Then each
client frame is parsed (``frames``) and dispatched; errors keep the
connection open, except too many protocol errors (4400) and an access token
that expires without an ``authenticate`` (4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketDisconnect

from golden_path.db import events, runs, users
from golden_path.db.errors import DatabaseUnavailable
from golden_path.ids import ConnectionID
from golden_path.protocol import (
    PROTOCOL_ERROR_CODES,
    PROTOCOL_NAME,
    CloseCode,
    ErrorCode,
    RunStatus,
    ServerFrame,
)
from golden_path.server.auth.sessions import SessionStoreUnavailable
from golden_path.server.auth.tokens import TokenError
from golden_path.server.runs.service import Rejected
from golden_path.server.ws.connection import Connection
from golden_path.server.ws.frames import (
    Authenticate,
    Cancel,
    FrameError,
    Ping,
    Resume,
    UserMessage,
    parse_frame,
)
from golden_path.server.ws.handshake import Principal, Refused, authenticate, selected_subprotocol
from golden_path.server.ws.presence import RENEW_EVERY_S

if TYPE_CHECKING:
    from golden_path.server.state import ServerState

log = logging.getLogger(__name__)
# Errors whose frame always says whether sending again can succeed.
RETRY_CODES = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED})


async def websocket_endpoint(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.gp
    subprotocol = selected_subprotocol(websocket)
    outcome = await authenticate(
        websocket, state.tokens, state.sessions, state.settings.allowed_origins
    )
    if isinstance(outcome, Refused):
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=outcome.close_code, reason=outcome.reason)
        return
    principal = outcome
    if state.shutting_down:
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=CloseCode.GOING_AWAY, reason="server shutting down")
        return
    connection_id = ConnectionID.new()
    limit = principal.tier.limits.open_websockets
    if not await state.presence.admit(principal.user_id, connection_id, limit):
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(
            code=CloseCode.TOO_MANY_CONNECTIONS,
            reason=f"the {principal.tier.value} plan allows {limit} open connections",
        )
        return
    try:
        try:
            async with state.db.as_user(principal.user_id) as conn:
                last_seq = await users.last_seq(conn, principal.user_id)
        except DatabaseUnavailable:
            await websocket.accept(subprotocol=subprotocol)
            await websocket.close(code=CloseCode.INTERNAL_ERROR, reason="database unavailable")
            return
        await websocket.accept(subprotocol=subprotocol)
        connection = Connection(websocket, connection_id, principal, state.db, last_seq)
        await _serve(state, connection, last_seq)
    finally:
        await state.presence.release(principal.user_id, connection_id)


async def _serve(state: ServerState, connection: Connection, last_seq: int) -> None:
    principal = connection.principal
    connection.send(
        {
            "type": ServerFrame.CONNECTION_ESTABLISHED.value,
            "connection_id": str(connection.id),
            "user_id": str(principal.user_id),
            "tier": principal.tier.value,
            "protocol": PROTOCOL_NAME,
            "last_seq": last_seq,
        }
    )
    connection.start()
    state.connections.add(connection)
    state.hub.attach(str(principal.user_id), connection)
    watchdog = asyncio.create_task(_watch(state, connection), name=f"watch-{connection.id}")
    try:
        await _receive_loop(state, connection)
    finally:
        watchdog.cancel()
        state.hub.detach(str(principal.user_id), connection)
        state.connections.discard(connection)
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
        await connection.stop()


async def _receive_loop(state: ServerState, connection: Connection) -> None:
    websocket = connection.websocket
    while not connection.closed.is_set():
        receive = asyncio.ensure_future(websocket.receive())
        closed = asyncio.ensure_future(connection.closed.wait())
        done, _ = await asyncio.wait({receive, closed}, return_when=asyncio.FIRST_COMPLETED)
        if receive not in done:
            receive.cancel()
            return
        closed.cancel()
        try:
            message = receive.result()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            _protocol_error(
                connection,
                FrameError(ErrorCode.UNSUPPORTED_FRAME, "binary frames are not supported"),
            )
            continue
        try:
            await _dispatch(state, connection, message.get("text") or "")
        except Exception:
            log.exception("connection %s: a frame could not be handled", connection.id)
            connection.close(CloseCode.INTERNAL_ERROR, "internal error; reconnect and resume")


def _protocol_error(connection: Connection, error: FrameError) -> None:
    connection.send(error.to_frame())
    if error.code in PROTOCOL_ERROR_CODES and connection.count_protocol_error():
        connection.close(CloseCode.PROTOCOL_ERRORS, "too many protocol errors")


async def _dispatch(state: ServerState, connection: Connection, text: str) -> None:
    frame = parse_frame(text)
    if isinstance(frame, FrameError):
        _protocol_error(connection, frame)
    elif isinstance(frame, Ping):
        connection.send({"type": ServerFrame.PONG.value})
    elif isinstance(frame, UserMessage):
        await _user_message(state, connection, frame)
    elif isinstance(frame, Resume):
        connection.resume(frame.after_seq)
    elif isinstance(frame, Cancel):
        await _cancel(state, connection, frame)
    elif isinstance(frame, Authenticate):
        await _reauthenticate(state, connection, frame)


async def _user_message(state: ServerState, connection: Connection, frame: UserMessage) -> None:
    principal = connection.principal
    try:
        if await state.sessions.is_revoked(principal.as_claims()):
            connection.close(CloseCode.UNAUTHORIZED, "token revoked")
            return
    except SessionStoreUnavailable:
        pass  # an open, authenticated connection keeps working while Redis is away
    outcome = await state.runs.submit(
        user_id=principal.user_id,
        tier=principal.tier,
        content=frame.content,
        thread_id=frame.thread_id,
        request_id=frame.request_id,
    )
    if isinstance(outcome, Rejected):
        connection.error(
            outcome.code,
            outcome.message,
            request_id=frame.request_id,
            retry_after_ms=outcome.retry_after_ms,
            upgrade=outcome.upgrade,
            retryable=outcome.retryable if outcome.code in RETRY_CODES else None,
        )
        return
    if outcome.replayed:
        try:
            async with state.db.as_user(principal.user_id) as conn:
                replay = await events.for_run(conn, principal.user_id, outcome.run.id)
        except DatabaseUnavailable:
            connection.error(
                ErrorCode.UNAVAILABLE, "the event store is unavailable", retryable=True
            )
            return
        connection.replay(replay)


async def _cancel(state: ServerState, connection: Connection, frame: Cancel) -> None:
    user_id = connection.principal.user_id
    if await state.runs.cancel(frame.run_id, user_id):
        return
    try:
        async with state.db.as_user(user_id) as conn:
            run = await runs.get(conn, user_id, frame.run_id)
    except DatabaseUnavailable:
        connection.error(ErrorCode.UNAVAILABLE, "the database is unavailable", retryable=True)
        return
    if run is None or run.status != RunStatus.RUNNING:
        connection.error(
            ErrorCode.INVALID_MESSAGE,
            f"no running run {frame.run_id}",
            details=[{"field": "run_id", "problem": "not a running run of this user"}],
        )
        return
    # The run executes on another node: ask it to cancel (it checks the owner too).
    if not await state.hub.send_control({"cancel": str(frame.run_id), "user_id": str(user_id)}):
        connection.error(
            ErrorCode.UNAVAILABLE,
            "the run is on another server and cannot be reached now; retry",
            retryable=True,
        )


async def _reauthenticate(state: ServerState, connection: Connection, frame: Authenticate) -> None:
    try:
        claims = state.tokens.verify(frame.token, "access")
        if claims.user_id != connection.principal.user_id:
            raise TokenError("a token of another user")
        if await state.sessions.is_revoked(claims):
            raise TokenError("revoked")
    except TokenError:
        connection.close(CloseCode.UNAUTHORIZED, "invalid token")
        return
    except SessionStoreUnavailable:
        # The token cannot be checked for revocation: not taken, but the socket stays open
        # (until the current token expires) so the client can retry.
        connection.error(
            ErrorCode.UNAVAILABLE, "the token cannot be checked right now; retry", retryable=True
        )
        return
    connection.principal = Principal.from_claims(claims)
    connection.send(
        {
            "type": ServerFrame.AUTHENTICATED.value,
            "expires_in": max(0, claims.expires_at - int(time.time())),
        }
    )
    connection.reauthenticated.set()


async def _watch(state: ServerState, connection: Connection) -> None:
    """Close 4401 when the access token expires; renew the socket's presence lease."""
    wake = connection.reauthenticated
    while True:
        # The same clock-skew allowance as the handshake, so a token is never valid there and
        # expired here at one and the same moment.
        skew = state.settings.clock_skew_s
        remaining = connection.principal.expires_at + skew - time.time()
        if remaining <= 0:
            connection.close(CloseCode.UNAUTHORIZED, "token expired")
            return
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=min(remaining, RENEW_EVERY_S))
        await state.presence.renew(connection.principal.user_id, connection.id)
