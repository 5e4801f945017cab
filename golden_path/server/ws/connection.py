"""One open WebSocket: everything it sends goes through one ordered outbox.

Live events, replays, resumes, error frames and the close all queue here and
leave through a single sender task, so frames never interleave and events
leave in ``seq`` order with no gap and no duplicate (see ``window``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from golden_path.db import events, users
from golden_path.db.errors import DatabaseUnavailable
from golden_path.db.scope import Database, as_database
from golden_path.ids import ConnectionID
from golden_path.protocol import PROTOCOL_ERRORS_PER_MINUTE, CloseCode
from golden_path.server.refusal import Refusal, unavailable
from golden_path.server.ws.handshake import Principal
from golden_path.server.ws.window import DeliveryWindow, SeqRange

log = logging.getLogger(__name__)
RESUME_PAGE = 1000


@dataclass(frozen=True, slots=True)
class _Live:
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Replay:
    events: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Resume:
    after_seq: int


@dataclass(frozen=True, slots=True)
class _Frame:
    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


_Outgoing = _Live | _Replay | _Resume | _Frame | _Close


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        connection_id: ConnectionID,
        principal: Principal,
        db: asyncpg.Pool | Database,
        last_seq: int,
    ) -> None:
        self.websocket = websocket
        self.id = connection_id
        self.principal = principal
        self._db = as_database(db)
        self.window = DeliveryWindow.at(last_seq)
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._protocol_errors: deque[float] = deque()
        self.closed = asyncio.Event()
        self.reauthenticated = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    # -- what the rest of the server asks of a connection ---------------------------------

    def push_live(self, event: dict[str, Any]) -> None:
        self._outbox.put_nowait(_Live(event))

    def send(self, frame: dict[str, Any]) -> None:
        self._outbox.put_nowait(_Frame(frame))

    def replay(self, run_events: list[dict[str, Any]]) -> None:
        self._outbox.put_nowait(_Replay(run_events))

    def resume(self, after_seq: int) -> None:
        self._outbox.put_nowait(_Resume(after_seq))

    def close(self, code: int, reason: str = "") -> None:
        self._outbox.put_nowait(_Close(code, reason))

    def refuse(self, refusal: Refusal) -> None:
        """Answer with ``refusal``'s ``error`` frame; the connection stays open."""
        self.send(refusal.to_frame())

    def count_protocol_error(self, now: float | None = None) -> bool:
        """Record a protocol error; ``True`` when the per-minute allowance is exceeded."""
        moment = time.monotonic() if now is None else now
        self._protocol_errors.append(moment)
        while self._protocol_errors and self._protocol_errors[0] <= moment - 60:
            self._protocol_errors.popleft()
        return len(self._protocol_errors) > PROTOCOL_ERRORS_PER_MINUTE

    # -- the sender ---------------------------------------------------------------------

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name=f"send-{self.id}")

    async def stop(self) -> None:
        self.closed.set()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender

    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, _Close):
                    await self._close(item.code, item.reason)
                    return
                await self._handle(item)
        except (OSError, RuntimeError, WebSocketDisconnect) as exc:  # the client went away
            log.debug("connection %s: send failed: %s", self.id, exc)
        except Exception:
            # A failure of ours (say, the event store while filling a gap): tell the client
            # with 1011 so it reconnects and resumes, rather than leaving it to time out.
            log.exception("connection %s: delivery failed", self.id)
            await self._close(CloseCode.INTERNAL_ERROR, "internal error; reconnect and resume")
        finally:
            self.closed.set()

    async def _handle(self, item: _Outgoing) -> None:
        if isinstance(item, _Frame):
            await self._write(item.frame)
        elif isinstance(item, _Live):
            seq = int(item.event["seq"])
            decision = self.window.live(seq)
            if not decision.deliver:
                return
            if decision.fill_first is not None:
                await self._send_range(decision.fill_first)
            if seq > self.window.high:
                await self._write(item.event)
                self.window.sent(seq)
        elif isinstance(item, _Replay):
            for event in item.events:
                await self._write(event)
        elif isinstance(item, _Resume):
            try:
                # A client cannot have seen beyond the user's newest event: clamping keeps
                # a too-high after_seq from silencing the live events that follow.
                user_id = self.principal.user_id
                async with self._db.as_user(user_id) as conn:
                    newest = await users.last_seq(conn, user_id)
                for seq_range in self.window.resume(min(item.after_seq, newest)):
                    await self._send_range(seq_range)
            except DatabaseUnavailable as exc:
                log.warning("connection %s: resume failed: %s", self.id, exc)
                await self._write(
                    unavailable("the event store is unavailable; resume again").to_frame()
                )

    async def _send_range(self, seq_range: SeqRange) -> None:
        """Send the user's stored events in ``seq_range``, in order, a page at a time."""
        user_id = self.principal.user_id
        after = seq_range.after
        while seq_range.upto is None or after < seq_range.upto:
            async with self._db.as_user(user_id) as conn:
                page = await events.after(conn, user_id, after, limit=RESUME_PAGE)
            if seq_range.upto is not None:
                page = [e for e in page if int(e["seq"]) <= seq_range.upto]
            for event in page:
                await self._write(event)
                self.window.sent(int(event["seq"]))
            if len(page) < RESUME_PAGE:
                return
            after = int(page[-1]["seq"])

    async def _write(self, frame: dict[str, Any]) -> None:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            raise RuntimeError("socket closed")
        await self.websocket.send_text(json.dumps(frame, separators=(",", ":")))

    async def _close(self, code: int, reason: str) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=code, reason=reason)
