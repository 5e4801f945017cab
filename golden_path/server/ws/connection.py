"""One open WebSocket: everything it sends goes through one ordered, bounded outbox.

Live events, replays, resumes, error frames and the close all queue here and
leave through a single sender task, so frames never interleave and events
leave in ``seq`` order with no gap and no duplicate (see ``window``).

The outbox is bounded (:class:`OutboxLimits`: frames and bytes) and each write
has a timeout. A client that does not read fast enough to stay inside them is a
*slow consumer*: its socket is closed 1013 and what it missed stays persisted
for a ``resume`` on a new socket; the server never buffers without bound for it.
A close for a slow consumer or an ended session (4401) jumps the queue: the
backlog is dropped and a write in progress is abandoned. Other closes (4400,
1001, 1011) leave after the frames queued before them. The close frame itself
gets :data:`CLOSE_FRAME_TIMEOUT_S` to go out; a socket that cannot take even that
is then dropped by the transport (``uvicorn_protocol``).
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
# A resume reads the stored events a page at a time, and lets the event loop run other
# work every YIELD_EVERY frames: a write to a socket with room does not suspend, so one
# resume of a long history would otherwise hold the loop for tens of ms (the benchmark's
# slow reader, resuming from 0 every 2.5 s, took everybody else's p99 to 3.75x).
RESUME_PAGE = 200
YIELD_EVERY = 32
SLOW_CONSUMER_REASON = "slow consumer: reconnect and resume"
# Closes that drop the backlog and interrupt a write in progress.
URGENT_CLOSES = frozenset({CloseCode.UNAUTHORIZED, CloseCode.SLOW_CONSUMER})
# How long the close frame may wait for room on the socket. Past it the socket is stuck
# (or its session is over), and waiting longer only holds its resources.
CLOSE_FRAME_TIMEOUT_S = 2.0
_SMALL = 64  # the bytes counted for an outbox entry that carries no frame text


class ReplayMeter:
    """How many stored events this socket's resumes sent in the last minute."""

    def __init__(self) -> None:
        self._pages: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, count: int, now: float | None = None) -> None:
        self._pages.append((time.monotonic() if now is None else now, count))
        self._total += count

    def last_minute(self, now: float | None = None) -> int:
        moment = time.monotonic() if now is None else now
        while self._pages and self._pages[0][0] <= moment - 60:
            self._total -= self._pages.popleft()[1]
        return self._total

    def free_in_ms(self, now: float | None = None) -> int:
        """The ms until the oldest page counted leaves the minute (1 when none is counted)."""
        moment = time.monotonic() if now is None else now
        self.last_minute(moment)
        return max(1, int((self._pages[0][0] + 60 - moment) * 1000)) if self._pages else 1


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    """How much one socket may have waiting to be sent, and how long one write may take."""

    frames: int = 1000
    bytes: int = 1024 * 1024
    send_timeout_s: float = 10.0


def _text(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Live:
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class _Replay:
    texts: list[str]


@dataclass(frozen=True, slots=True)
class _Resume:
    after_seq: int


@dataclass(frozen=True, slots=True)
class _Frame:
    text: str


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


_Outgoing = _Live | _Replay | _Resume | _Frame | _Close


class _SlowConsumer(Exception):
    """A write did not complete within the send timeout."""


class _Superseded(Exception):
    """An urgent close is waiting: the item being sent is abandoned before its next write."""


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        connection_id: ConnectionID,
        principal: Principal,
        db: asyncpg.Pool | Database,
        last_seq: int,
        limits: OutboxLimits | None = None,
    ) -> None:
        self.websocket = websocket
        self.id = connection_id
        self.principal = principal
        self._db = as_database(db)
        self.limits = limits or OutboxLimits()
        self.window = DeliveryWindow.at(last_seq)
        self._outbox: deque[tuple[_Outgoing, int]] = deque()
        self._wake = asyncio.Event()
        self.outbox_bytes = 0
        self.peak_outbox_frames = 0
        self.peak_outbox_bytes = 0
        self._close_queued = False
        self._urgent_close: _Close | None = None
        self.close_code: int | None = None  # the code this server closed (or is closing) with
        self._writing = False
        self._stopping = False
        self._protocol_errors: deque[float] = deque()
        self.closed = asyncio.Event()
        self.reauthenticated = asyncio.Event()
        self.replayed = ReplayMeter()  # stored events sent by resumes (their allowance)
        self._sender: asyncio.Task[None] | None = None

    @property
    def outbox_frames(self) -> int:
        return len(self._outbox)

    # -- what the rest of the server asks of a connection ---------------------------------

    def push_live(self, event: dict[str, Any]) -> None:
        text = _text(event)
        self._put(_Live(int(event["seq"]), text), len(text))

    def send(self, frame: dict[str, Any]) -> None:
        text = _text(frame)
        self._put(_Frame(text), len(text))

    def replay(self, run_events: list[dict[str, Any]]) -> None:
        texts = [_text(event) for event in run_events]
        self._put(_Replay(texts), sum(len(t) for t in texts) or _SMALL)

    def resume(self, after_seq: int) -> None:
        """Send the stored events after ``after_seq``; a resume still waiting in the outbox
        is dropped first, as this one decides what is sent from here on."""
        waiting = [entry for entry in self._outbox if isinstance(entry[0], _Resume)]
        for entry in waiting:
            self._outbox.remove(entry)
            self.outbox_bytes -= entry[1]
        self._put(_Resume(after_seq), _SMALL)

    def close(self, code: int, reason: str = "") -> None:
        """Close with ``code``; the first close asked for wins.

        An urgent close (:data:`URGENT_CLOSES`) drops the backlog and interrupts a write in
        progress; any other leaves after the frames already queued.
        """
        if self.close_code is not None:
            return
        self.close_code = code
        if code not in URGENT_CLOSES:
            self._close_queued = True
            self._outbox.append((_Close(code, reason), 0))
            self._wake.set()
            return
        self._urgent_close = _Close(code, reason)
        self._outbox.clear()
        self.outbox_bytes = 0
        self._wake.set()
        sender = self._sender
        if self._writing and sender is not None and sender is not asyncio.current_task():
            sender.cancel()  # the write in progress is abandoned; the sender then closes

    def _put(self, item: _Outgoing, size: int) -> None:
        if self.close_code is not None:
            return  # closing: nothing more goes out
        limits = self.limits
        if len(self._outbox) >= limits.frames or self.outbox_bytes + size > limits.bytes:
            log.info(
                "connection %s: slow consumer (%d frames, %d bytes waiting); closing %d",
                self.id,
                len(self._outbox),
                self.outbox_bytes,
                CloseCode.SLOW_CONSUMER,
            )
            self.close(CloseCode.SLOW_CONSUMER, SLOW_CONSUMER_REASON)
            return
        self._outbox.append((item, size))
        self.outbox_bytes += size
        self.peak_outbox_frames = max(self.peak_outbox_frames, len(self._outbox))
        self.peak_outbox_bytes = max(self.peak_outbox_bytes, self.outbox_bytes)
        self._wake.set()

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
        self._stopping = True
        self.closed.set()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender

    async def _next(self) -> _Outgoing:
        while True:
            if self._urgent_close is not None:
                return self._urgent_close
            if self._outbox:
                item, size = self._outbox.popleft()
                self.outbox_bytes -= size
                return item
            self._wake.clear()
            await self._wake.wait()

    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._next()
                if isinstance(item, _Close):
                    await self._close(item.code, item.reason)
                    return
                try:
                    await self._handle(item)
                except _Superseded:
                    continue  # the urgent close is next
                except asyncio.CancelledError:
                    if self._stopping or self._urgent_close is None:
                        raise
                    task = asyncio.current_task()
                    if task is not None:
                        task.uncancel()  # cancelled by an urgent close: go on and send it
        except _SlowConsumer:
            self.close(CloseCode.SLOW_CONSUMER, SLOW_CONSUMER_REASON)
            await self._close(CloseCode.SLOW_CONSUMER, SLOW_CONSUMER_REASON)
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
            await self._write_text(item.text)
        elif isinstance(item, _Live):
            seq = item.seq
            decision = self.window.live(seq)
            if not decision.deliver:
                return
            if decision.fill_first is not None:
                await self._send_range(decision.fill_first)
            if seq > self.window.high:
                await self._write_text(item.text)
                self.window.sent(seq)
        elif isinstance(item, _Replay):
            for text in item.texts:
                await self._write_text(text)
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
            self.replayed.add(len(page))
            for number, event in enumerate(page, 1):
                await self._write(event)
                self.window.sent(int(event["seq"]))
                if number % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a turn for every other task, not a wait
            if len(page) < RESUME_PAGE:
                return
            after = int(page[-1]["seq"])

    async def _write(self, frame: dict[str, Any]) -> None:
        await self._write_text(_text(frame))

    async def _write_text(self, text: str) -> None:
        if self._urgent_close is not None:
            raise _Superseded  # say, between two pages of a resume when the session ended
        if self.websocket.application_state != WebSocketState.CONNECTED:
            raise RuntimeError("socket closed")
        self._writing = True
        try:
            async with asyncio.timeout(self.limits.send_timeout_s):
                await self.websocket.send_text(text)
        except TimeoutError:
            raise _SlowConsumer from None
        finally:
            self._writing = False

    async def _close(self, code: int, reason: str) -> None:
        """Send the close frame; a client that reads nothing cannot hold this sender longer
        than ``CLOSE_FRAME_TIMEOUT_S`` (its transport then drops the socket)."""
        if self.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(min(self.limits.send_timeout_s, CLOSE_FRAME_TIMEOUT_S)):
                    await self.websocket.close(code=code, reason=reason)
