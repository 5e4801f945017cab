"""The WebSocket half of protocol v1: connect, send, and wait for what the server sends.

Every frame in either direction is recorded in ``transcript``; a wait that
times out raises :class:`WaitTimeout` listing what did arrive, so a failing
test shows the conversation rather than "timed out".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from golden_path.errors import GoldenPathError
from golden_path.protocol import BEARER_SUBPROTOCOL_PREFIX, PROTOCOL_NAME, EventType, ServerFrame

AuthMethod = Literal["header", "subprotocol", "ticket", "none"]
DEFAULT_TIMEOUT_S = 15.0
Frame = dict[str, Any]


class WaitTimeout(GoldenPathError, AssertionError):
    """What was awaited did not arrive in time; the message lists what did."""


class ConnectionRefused(GoldenPathError):
    """The server closed the socket during the handshake; ``code`` is its close code."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection refused with close code {code}: {reason!r}")
        self.code = code
        self.reason = reason


@dataclass
class Entry:
    direction: Literal["sent", "received"]
    frame: Frame | str
    at: float


@dataclass
class RunHandle:
    """A ``user_message`` in flight, found again by its ``request_id``."""

    socket: GoldenPathSocket
    request_id: str
    sent_at: float
    run_id: str | None = None
    events: list[Frame] = field(default_factory=list)

    def _mine(self, frame: Frame) -> bool:
        return frame.get("request_id") == self.request_id and "seq" in frame

    async def wait(self, timeout: float = DEFAULT_TIMEOUT_S) -> list[Frame]:
        """Every event of this run up to and including its terminal event."""
        terminal = await self.socket.wait_for(
            lambda f: self._mine(f) and EventType(f["type"]).is_terminal,
            timeout,
            what=f"the terminal event of request {self.request_id}",
            error_for=self.request_id,
        )
        self.events = [f for f in self.socket.received() if self._mine(f)]
        self.run_id = str(terminal["run_id"])
        return self.events

    async def first(self, event_type: EventType, timeout: float = DEFAULT_TIMEOUT_S) -> Frame:
        frame = await self.socket.wait_for(
            lambda f: self._mine(f) and f.get("type") == event_type.value,
            timeout,
            what=f"{event_type.value} of request {self.request_id}",
            error_for=self.request_id,
        )
        self.run_id = str(frame["run_id"])
        return frame

    @property
    def terminal(self) -> Frame:
        return self.events[-1]


class GoldenPathSocket:
    """``sock = await GoldenPathSocket.connect(ws_url, token)``; then ``send_message``, ``wait``."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.transcript: list[Entry] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.established: Frame = {}

    @classmethod
    async def connect(
        cls,
        ws_url: str,
        token: str | None = None,
        *,
        method: AuthMethod = "header",
        ticket: str | None = None,
        origin: str | None = None,
        extra_headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> GoldenPathSocket:
        """Open and authenticate a socket; raise :class:`ConnectionRefused` with the close code."""
        headers = dict(extra_headers or {})
        protocols = list(subprotocols or [])
        params = dict(query or {})
        if method == "header" and token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif method == "subprotocol" and token is not None:
            protocols = [PROTOCOL_NAME, f"{BEARER_SUBPROTOCOL_PREFIX}{token}", *protocols]
        elif method == "ticket" and ticket is not None:
            params["ticket"] = ticket
        url = ws_url + (("&" if "?" in ws_url else "?") + urlencode(params) if params else "")
        host = urlsplit(ws_url).hostname or ""
        try:
            ws = await connect(
                url,
                additional_headers=headers or None,
                subprotocols=protocols or None,  # type: ignore[arg-type]
                origin=origin,  # type: ignore[arg-type]
                open_timeout=timeout,
                max_size=None,
                proxy=None if host in ("127.0.0.1", "localhost", "::1") else True,
            )
        except InvalidStatus as exc:
            raise ConnectionRefused(None, f"HTTP {exc.response.status_code}") from exc
        sock = cls(ws)
        try:
            first = await sock.wait_for(lambda _: True, timeout, what="the first frame")
        except WaitTimeout:
            if sock.close_code is not None:
                raise ConnectionRefused(sock.close_code, sock.close_reason or "") from None
            raise
        if first.get("type") != ServerFrame.CONNECTION_ESTABLISHED.value:
            raise AssertionError(f"first frame is not connection_established: {first}")
        sock.established = first
        return sock

    @property
    def subprotocol(self) -> str | None:
        return self._ws.subprotocol

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    @property
    def close_reason(self) -> str | None:
        return self._ws.close_reason

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                try:
                    frame: Frame | str = json.loads(raw)
                except ValueError:
                    frame = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                self.transcript.append(Entry("received", frame, time.perf_counter()))
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            async with self._changed:
                self._changed.notify_all()

    def received(self) -> list[Frame]:
        return [
            e.frame
            for e in self.transcript
            if e.direction == "received" and isinstance(e.frame, dict)
        ]

    def events(self) -> list[Frame]:
        """Every run event received, in arrival order."""
        return [f for f in self.received() if "seq" in f]

    def format_transcript(self, last: int = 40) -> str:
        lines = []
        for entry in self.transcript[-last:]:
            arrow = ">>" if entry.direction == "sent" else "<<"
            text = json.dumps(entry.frame) if isinstance(entry.frame, dict) else entry.frame
            lines.append(f"  {arrow} {text[:300]}")
        if self._ws.close_code is not None:
            lines.append(f"  -- closed {self._ws.close_code} {self._ws.close_reason!r}")
        return "\n".join(lines) or "  (nothing)"

    async def wait_for(
        self,
        predicate: Callable[[Frame], bool],
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        what: str = "a matching frame",
        since: int = 0,
        error_for: str | None = None,
    ) -> Frame:
        """The first received frame (from index ``since``) matching ``predicate``."""
        deadline = time.monotonic() + timeout

        def find() -> Frame | None:
            for frame in self.received()[since:]:
                if predicate(frame):
                    return frame
                if (
                    error_for is not None
                    and frame.get("type") == ServerFrame.ERROR.value
                    and frame.get("request_id") == error_for
                ):
                    raise WaitTimeout(f"waiting for {what}, the server answered {frame}")
            return None

        async with self._changed:
            while True:
                found = find()
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._reader.done():
                    state = (
                        "the socket closed" if self._reader.done() else f"{timeout:.1f} s passed"
                    )
                    raise WaitTimeout(
                        f"waiting for {what}: {state}; transcript:\n{self.format_transcript()}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def send(self, frame: Frame | str | bytes) -> None:
        if isinstance(frame, dict):
            payload: str | bytes = json.dumps(frame)
            self.transcript.append(Entry("sent", frame, time.perf_counter()))
        else:
            payload = frame
            shown = frame if isinstance(frame, str) else f"<{len(frame)} bytes>"
            self.transcript.append(Entry("sent", shown, time.perf_counter()))
        await self._ws.send(payload)

    async def send_message(
        self, content: str, *, thread_id: str | None = None, request_id: str | None = None
    ) -> RunHandle:
        request_id = request_id or f"req_{uuid.uuid4().hex}"
        frame: Frame = {"type": "user_message", "content": content, "request_id": request_id}
        if thread_id is not None:
            frame["thread_id"] = thread_id
        handle = RunHandle(self, request_id, time.perf_counter())
        await self.send(frame)
        return handle

    async def ask(self, content: str, timeout: float = DEFAULT_TIMEOUT_S, **kw: Any) -> RunHandle:
        """Send a message and wait for its run to end."""
        handle = await self.send_message(content, **kw)
        await handle.wait(timeout)
        return handle

    async def error_for(self, request_id: str, timeout: float = DEFAULT_TIMEOUT_S) -> Frame:
        return await self.wait_for(
            lambda f: f.get("type") == ServerFrame.ERROR and f.get("request_id") == request_id,
            timeout,
            what=f"an error for request {request_id}",
        )

    async def next_error(self, timeout: float = DEFAULT_TIMEOUT_S) -> Frame:
        """The next ``error`` frame after everything received so far."""
        since = len(self.received())
        return await self.wait_for(
            lambda f: f.get("type") == ServerFrame.ERROR,
            timeout,
            what="an error frame",
            since=since,
        )

    async def resume(self, after_seq: int) -> None:
        await self.send({"type": "resume", "after_seq": after_seq})

    async def cancel(self, run_id: str) -> None:
        await self.send({"type": "cancel", "run_id": run_id})

    async def authenticate(self, token: str, timeout: float = DEFAULT_TIMEOUT_S) -> Frame:
        since = len(self.received())
        await self.send({"type": "authenticate", "token": token})
        return await self.wait_for(
            lambda f: f.get("type") == ServerFrame.AUTHENTICATED.value,
            timeout,
            what="authenticated",
            since=since,
        )

    async def ping(self, timeout: float = DEFAULT_TIMEOUT_S) -> float:
        """Round trip of a protocol ``ping``, in milliseconds."""
        since = len(self.received())
        began = time.perf_counter()
        await self.send({"type": "ping"})
        await self.wait_for(
            lambda f: f.get("type") == ServerFrame.PONG.value, timeout, what="pong", since=since
        )
        return (time.perf_counter() - began) * 1000

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT_S) -> int | None:
        """Wait for the server to close the socket; its close code."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self._ws.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    async def drop(self) -> None:
        """Vanish without a closing handshake, as a lost network would."""
        self._ws.transport.abort()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    async def __aenter__(self) -> GoldenPathSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
