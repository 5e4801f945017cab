"""A client of any JSON WebSocket: send frames, receive until a predicate, keep a transcript.

``sock = await WSClient.connect(url, token=...)`` opens the socket; a reader task
takes every frame off the wire as it arrives (decoded JSON, or the text as is),
so the ``websockets`` client's receive queue never fills: a server that sends
more than ``max_queue`` frames the test never reads cannot stall the closing
handshake (the client would wait ``close_timeout``, 10 s, then drop the TCP
connection). ``await sock.receive_until("run.done")`` returns the frames up to
the first that matches; a timeout raises :class:`WSTimeout` naming what did
arrive. ``contract`` (:class:`~golden_path.testing.ws.contract.WSContract`) reads
the stages and checks the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from golden_path.testing.transcripts import format_lines, track
from golden_path.testing.violation import Violation
from golden_path.testing.ws.contract import WSContract, assert_ws_events, check_ws_events

__all__ = ["WSClient", "WSRefused", "WSTimeout"]

DEFAULT_TIMEOUT_S = 10.0
Auth = Literal["header", "query", "subprotocol"]
Frame = Any  # a decoded JSON value, or the text of a frame that is not JSON


class WSTimeout(AssertionError):
    """What the test waited for did not arrive in time; the message lists what did."""


class WSRefused(Exception):
    """The server refused the WebSocket handshake: ``status`` is its HTTP status."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"the server refused the WebSocket at {url}: HTTP {status}")
        self.status = status


@dataclass
class Entry:
    direction: Literal["sent", "received", "closed"]
    frame: Frame
    at: float


class WSClient:
    """One JSON WebSocket, read continuously into ``frames`` and ``transcript``."""

    transcript_kind = "WebSocket"

    def __init__(self, ws: ClientConnection, url: str, contract: WSContract) -> None:
        self._ws = ws
        self.url = url
        self.contract = contract
        self.transcript: list[Entry] = []
        self.frames: list[Frame] = []
        self._cursor = 0  # frames before it were returned by recv / receive_until
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        track(self)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        auth: Auth = "header",
        query_name: str = "token",
        headers: Mapping[str, str] | None = None,
        subprotocols: Collection[str] = (),
        contract: WSContract | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> WSClient:
        """Open the socket. The token goes as ``Authorization: Bearer`` (``auth="header"``),
        as the query parameter ``query_name`` (``"query"``), or as a subprotocol offered
        first (``"subprotocol"``). A refused handshake raises :class:`WSRefused`."""
        sent_headers = dict(headers or {})
        protocols = list(subprotocols)
        if token is not None and auth == "header":
            sent_headers["Authorization"] = f"Bearer {token}"
        elif token is not None and auth == "query":
            url += ("&" if "?" in url else "?") + urlencode({query_name: token})
        elif token is not None and auth == "subprotocol":
            protocols.insert(0, token)
        host = urlsplit(url).hostname or ""
        try:
            ws = await connect(
                url,
                additional_headers=sent_headers or None,
                subprotocols=protocols or None,  # type: ignore[arg-type]
                open_timeout=timeout,
                max_size=None,
                max_queue=None,  # the reader drains it anyway; never a stalled close
                proxy=None if host in ("127.0.0.1", "localhost", "::1") else True,
            )
        except InvalidStatus as exc:
            raise WSRefused(exc.response.status_code, url.split("?")[0]) from exc
        return cls(ws, url.split("?")[0], contract or WSContract())

    # -- reading -------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    frame: Frame = json.loads(text)
                except ValueError:
                    frame = text
                self.frames.append(frame)
                self.transcript.append(Entry("received", frame, time.monotonic()))
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            closed = f"{self._ws.close_code} {self._ws.close_reason!r}"
            self.transcript.append(Entry("closed", closed, time.monotonic()))
            async with self._changed:
                self._changed.notify_all()

    @property
    def events(self) -> list[Mapping[str, Any]]:
        """Every frame received that is a JSON object, in arrival order."""
        return [f for f in self.frames if isinstance(f, Mapping)]

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    @property
    def close_reason(self) -> str | None:
        return self._ws.close_reason

    async def receive_until(
        self,
        until: str | Callable[[Frame], bool],
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> list[Frame]:
        """The frames not yet returned, up to and including the first that matches ``until``
        (an event name, or a predicate on a frame); raises :class:`WSTimeout` after
        ``timeout`` seconds, or when the socket closes first, naming what arrived."""
        matches: Callable[[Frame], bool]
        if isinstance(until, str):
            what = until
            matches = lambda frame: self.contract.event_name(frame) == until  # noqa: E731
        else:
            matches, what = until, getattr(until, "__name__", "the predicate")
        start = scanned = self._cursor
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for index in range(scanned, len(self.frames)):
                    if matches(self.frames[index]):
                        self._cursor = index + 1
                        return self.frames[start : index + 1]
                scanned = len(self.frames)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._reader.done():
                    why = "the socket closed" if self._reader.done() else f"{timeout:.1f} s passed"
                    arrived = [self.contract.event_name(f) or f for f in self.frames[start:]]
                    raise WSTimeout(f"waiting for {what}: {why}; received {arrived}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def recv(self, timeout: float = DEFAULT_TIMEOUT_S) -> Frame:
        """The next frame not yet returned."""
        frames = await self.receive_until(lambda _: True, timeout)
        return frames[-1]

    async def receive_run(self, timeout: float = DEFAULT_TIMEOUT_S) -> list[Frame]:
        """The frames up to the next terminal event of the contract."""
        if not self.contract.terminal:
            raise ValueError("the contract names no terminal event: set gp_ws_terminal_events")
        return await self.receive_until(self.contract.is_terminal, timeout)

    # -- sending -------------------------------------------------------------------------

    async def send(self, frame: Frame) -> None:
        """Send ``frame`` as JSON (a ``str`` or ``bytes`` as is)."""
        data = frame if isinstance(frame, str | bytes) else json.dumps(frame)
        self.transcript.append(Entry("sent", frame, time.monotonic()))
        await self._ws.send(data)

    # -- the contract --------------------------------------------------------------------

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages the frames received so far show (the contract's map)."""
        return self.contract.read_stages(self.frames)

    def violations(
        self, *, stages: Collection[str] = (), require_complete: bool = True
    ) -> list[Violation]:
        return check_ws_events(
            self.frames, self.contract, stages=stages, require_complete=require_complete
        )

    def assert_contract(
        self, *, stages: Collection[str] = (), require_complete: bool = True
    ) -> None:
        """Raise ``ContractViolation`` if the frames received break the contract."""
        assert_ws_events(
            self.frames, self.contract, stages=stages, require_complete=require_complete
        )

    # -- closing -------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake, then the reader's end (every frame before it is kept)."""
        with contextlib.suppress(Exception):
            await self._ws.close(code, reason)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT_S) -> int | None:
        """Wait for the server to close the socket; its close code."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self._ws.close_code

    async def __aenter__(self) -> WSClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def format_transcript(self, limit: int = 200) -> str:
        """The last ``limit`` entries: each frame sent (->) and received (<-), and the close."""
        origin = self.transcript[0].at if self.transcript else None
        entries = ((e.direction, e.frame, e.at) for e in self.transcript[-limit:])
        return format_lines(entries, "(nothing sent or received)", origin)
