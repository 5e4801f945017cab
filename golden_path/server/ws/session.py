"""One authenticated socket's conversation: frames in, events and answers out (protocol §4–§6).

A :class:`SocketSession` starts once the handshake has admitted the socket. It
sends ``connection_established``, attaches the connection to the hub, then
reads frames and dispatches each: a message becomes a run (the run service
answers with a run or a :class:`Refusal`), ``resume`` and ``ping`` are answered
from the connection's outbox, ``cancel`` goes to the run service wherever the
run executes, and ``authenticate`` moves the token's expiry. A watchdog closes
the socket with 4401 when the token expires or its session has ended, and renews
its presence lease. ``resume`` and ``ping`` have per-minute allowances, and so do
the stored events resumes send (a frame over them is refused ``rate_limited``
and counts as a protocol error); a
``user_message`` or ``resume`` on an expired or revoked token closes 4401.
Errors keep the connection open, except too many protocol errors (4400).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocketDisconnect

from golden_path.db import events
from golden_path.db.errors import DatabaseUnavailable
from golden_path.db.scope import Database
from golden_path.protocol import (
    PROTOCOL_ERROR_CODES,
    PROTOCOL_NAME,
    ClientFrame,
    CloseCode,
    ErrorCode,
    ServerFrame,
)
from golden_path.server.auth.sessions import SessionStore, SessionStoreUnavailable
from golden_path.server.auth.tokens import TokenError, Tokens
from golden_path.server.config import Settings
from golden_path.server.refusal import Refusal, unavailable
from golden_path.server.runs.service import RunService
from golden_path.server.ws.connection import Connection
from golden_path.server.ws.frames import (
    Authenticate,
    Cancel,
    Ping,
    Resume,
    UserMessage,
    parse_frame,
)
from golden_path.server.ws.handshake import Principal
from golden_path.server.ws.hub import Hub
from golden_path.server.ws.presence import RENEW_EVERY_S, Presence
from golden_path.server.ws.sockets import OpenSockets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SocketServices:
    """What the socket layer needs of the server, handed to it once at start-up."""

    settings: Settings
    db: Database
    tokens: Tokens
    sessions: SessionStore
    presence: Presence
    hub: Hub
    runs: RunService
    sockets: OpenSockets


class FrameAllowance:
    """At most ``per_minute`` frames of one kind in any 60 s (a sliding window)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()

    def take(self, now: float | None = None) -> int:
        """0 if the frame is within the allowance, else the ms until one is free again."""
        moment = time.monotonic() if now is None else now
        while self._times and self._times[0] <= moment - 60:
            self._times.popleft()
        if len(self._times) >= self.per_minute:
            return max(1, int((self._times[0] + 60 - moment) * 1000))
        self._times.append(moment)
        return 0


class SocketSession:
    """The protocol loop of one admitted socket, from ``connection_established`` to close."""

    def __init__(self, services: SocketServices, connection: Connection) -> None:
        self.services = services
        self.connection = connection
        settings = services.settings
        self._resumes = FrameAllowance(settings.ws_resumes_per_minute)
        self._pings = FrameAllowance(settings.ws_pings_per_minute)
        self._replay_allowance = settings.ws_replay_events_per_minute

    async def run(self, last_seq: int) -> None:
        services, connection = self.services, self.connection
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
        services.sockets.add(connection)
        services.hub.attach(str(principal.user_id), connection)
        watchdog = asyncio.create_task(self._watch(), name=f"watch-{connection.id}")
        try:
            await self._receive_loop()
        finally:
            watchdog.cancel()
            services.hub.detach(str(principal.user_id), connection)
            services.sockets.discard(connection)
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            await connection.stop()

    async def _receive_loop(self) -> None:
        connection = self.connection
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
                self._protocol_error(
                    Refusal(ErrorCode.UNSUPPORTED_FRAME, "binary frames are not supported")
                )
                continue
            try:
                await self._dispatch(message.get("text") or "")
            except Exception:
                log.exception("connection %s: a frame could not be handled", connection.id)
                connection.close(CloseCode.INTERNAL_ERROR, "internal error; reconnect and resume")

    def _protocol_error(self, refusal: Refusal) -> None:
        self.connection.refuse(refusal)
        if refusal.code in PROTOCOL_ERROR_CODES and self.connection.count_protocol_error():
            self.connection.close(CloseCode.PROTOCOL_ERRORS, "too many protocol errors")

    async def _dispatch(self, text: str) -> None:
        frame = parse_frame(text)
        if isinstance(frame, Refusal):
            self._protocol_error(frame)
        elif isinstance(frame, Ping):
            if self._allowed(self._pings, ClientFrame.PING):
                self.connection.send({"type": ServerFrame.PONG.value})
        elif isinstance(frame, UserMessage):
            await self._user_message(frame)
        elif isinstance(frame, Resume):
            if (
                self._allowed(self._resumes, ClientFrame.RESUME)
                and self._replay_allowed()
                and await self._still_valid()
            ):
                self.connection.resume(frame.after_seq)
        elif isinstance(frame, Cancel):
            refusal = await self.services.runs.request_cancel(
                frame.run_id, self.connection.principal.user_id
            )
            if refusal is not None:
                self.connection.refuse(refusal)
        elif isinstance(frame, Authenticate):
            await self._reauthenticate(frame)

    def _allowed(self, allowance: FrameAllowance, kind: ClientFrame) -> bool:
        """Take one frame of ``kind``; over the allowance, refuse it (a protocol error)."""
        wait_ms = allowance.take()
        if not wait_ms:
            return True
        return self._rate_limited(
            f"more than {allowance.per_minute} {kind.value} frames a minute", wait_ms
        )

    def _replay_allowed(self) -> bool:
        """Whether this socket's resumes sent fewer stored events than their allowance in the
        last minute: one resume of a long history costs the server as much as many runs."""
        replayed, allowance = self.connection.replayed, self._replay_allowance
        if replayed.last_minute() < allowance:
            return True
        return self._rate_limited(
            f"resumes sent {allowance} or more events in the last minute", replayed.free_in_ms()
        )

    def _rate_limited(self, message: str, wait_ms: int) -> bool:
        """Refuse the frame ``rate_limited`` (a protocol error); always ``False``."""
        refusal = Refusal(ErrorCode.RATE_LIMITED, message, retry_after_ms=wait_ms, retryable=True)
        self.connection.refuse(refusal)
        if self.connection.count_protocol_error():
            self.connection.close(CloseCode.PROTOCOL_ERRORS, "too many protocol errors")
        return False

    async def _still_valid(self) -> bool:
        """Whether the socket's token is unexpired and unrevoked; if not, close 4401."""
        connection = self.connection
        principal = connection.principal
        if principal.expires_at + self.services.settings.clock_skew_s <= time.time():
            connection.close(CloseCode.UNAUTHORIZED, "token expired")
            return False
        try:
            if await self.services.sessions.is_revoked(principal.as_claims()):
                connection.close(CloseCode.UNAUTHORIZED, "token revoked")
                return False
        except SessionStoreUnavailable:
            pass  # an open, authenticated connection keeps working while Redis is away
        return True

    async def _user_message(self, frame: UserMessage) -> None:
        services, connection = self.services, self.connection
        principal = connection.principal
        if not await self._still_valid():
            return
        outcome = await services.runs.submit(
            user_id=principal.user_id,
            tier=principal.tier,
            content=frame.content,
            thread_id=frame.thread_id,
            request_id=frame.request_id,
        )
        if isinstance(outcome, Refusal):
            connection.refuse(outcome.for_request(frame.request_id))
            return
        if outcome.replayed:
            try:
                async with services.db.as_user(principal.user_id) as conn:
                    replay = await events.for_run(conn, principal.user_id, outcome.run.id)
            except DatabaseUnavailable:
                connection.refuse(unavailable("the event store is unavailable"))
                return
            connection.replay(replay)

    async def _reauthenticate(self, frame: Authenticate) -> None:
        services, connection = self.services, self.connection
        try:
            claims = services.tokens.verify(frame.token, "access")
            if claims.user_id != connection.principal.user_id:
                raise TokenError("a token of another user")
            if await services.sessions.is_revoked(claims):
                raise TokenError("revoked")
        except TokenError:
            connection.close(CloseCode.UNAUTHORIZED, "invalid token")
            return
        except SessionStoreUnavailable:
            # The token cannot be checked for revocation: not taken, but the socket stays
            # open (until the current token expires) so the client can retry.
            connection.refuse(unavailable("the token cannot be checked right now; retry"))
            return
        connection.principal = Principal.from_claims(claims)
        connection.send(
            {
                "type": ServerFrame.AUTHENTICATED.value,
                "expires_in": max(0, claims.expires_at - int(time.time())),
            }
        )
        connection.reauthenticated.set()

    async def _watch(self) -> None:
        """Close 4401 when the access token expires; renew the socket's presence lease."""
        services, connection = self.services, self.connection
        wake = connection.reauthenticated
        while True:
            # The same clock-skew allowance as the handshake, so a token is never valid
            # there and expired here at one and the same moment.
            skew = services.settings.clock_skew_s
            remaining = connection.principal.expires_at + skew - time.time()
            if remaining <= 0:
                connection.close(CloseCode.UNAUTHORIZED, "token expired")
                return
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(remaining, RENEW_EVERY_S))
            # A session ended on a node whose message never came still ends here, within a
            # renewal period.
            if not await self._still_valid():
                return
            await services.presence.renew(connection.principal.user_id, connection.id)
