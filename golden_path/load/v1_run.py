"""One golden-path run of protocol v1 over a WebSocket, read to its end and checked.

``websocket-client`` is the socket: a blocking client on the standard ``socket`` module,
which gevent makes cooperative inside Locust (see the package's docstring). A simulated
user keeps one socket (:class:`V1Connection`) from run to run, as a chat client does:
opened (``Authorization: Bearer``, then ``connection_established`` read) for its first
run and again after a drop or a run that ended it. A run: send a ``user_message`` with a
fresh ``request_id``, read the run's events (those carrying its ``request_id``) up to its
terminal event. With ``drop_after``, the socket is
dropped (closed without a close frame, as a lost network does) once that many events
have arrived; a new socket sends ``resume`` with the highest ``seq`` held and reads the
rest (docs/protocol.md §6.2). A live event that reaches the new socket before the resumed
stream begins (the first event after ``after_seq``) is the race §6.2 allows: it comes
again in its place, so it is set aside; so is one that arrived live as the stream's first
event and comes again, identical, inside it. Everything else goes to the checker, which
reports a repeated or missing ``seq`` by its rule.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import websocket

from golden_path.load.timing import Arrivals, RunOutcome
from golden_path.protocol import PROTOCOL_NAME, EventType, ServerFrame
from golden_path.testing.v1.contract import check_events

TERMINAL = frozenset(e.value for e in (EventType.AGENT_COMPLETED, EventType.AGENT_ERROR))
Connect = Callable[..., websocket.WebSocket]
ABANDONED = "abandoned"  # the error of a run whose socket was dropped for good
MAX_REOPEN = 3  # sockets a slow reader opens again in one run after the server closed one


class ProtocolMismatch(Exception):
    """The server's first answer is not protocol v1's: it speaks another protocol."""


class SocketRefused(OSError):
    """The server closed the socket at its start: a refusal (its close code says why)."""


def _first_frame(ws: websocket.WebSocket) -> str:
    """The first data frame's text; a close frame first is a refusal."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            reason = data[2:].decode("utf-8", "replace")
            raise SocketRefused(f"the server closed the socket: {code} {reason!r}")
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            return bytes(data).decode("utf-8", "replace")


def open_socket(
    ws_url: str, token: str, timeout: float, connect: Connect = websocket.create_connection
) -> websocket.WebSocket:
    """An authenticated socket whose ``connection_established`` has been read."""
    try:
        # No Origin header: a server-side client is not a browser (docs/protocol.md §4.1).
        ws = connect(
            ws_url,
            timeout=timeout,
            header=[f"Authorization: Bearer {token}"],
            suppress_origin=True,
        )
    except websocket.WebSocketBadStatusException as exc:
        raise ProtocolMismatch(
            f"its WebSocket handshake at {ws_url} answered HTTP {exc.status_code}"
        ) from exc
    try:
        raw = _first_frame(ws)
    except BaseException:
        ws.close()
        raise
    try:
        first = json.loads(raw)
    except (TypeError, ValueError):
        first = raw
    if (
        not isinstance(first, dict)
        or first.get("type") != ServerFrame.CONNECTION_ESTABLISHED.value
        or first.get("protocol", PROTOCOL_NAME) != PROTOCOL_NAME
    ):
        ws.close()
        raise ProtocolMismatch(
            f"its first frame at {ws_url} was {str(raw)[:200]!r}, not {PROTOCOL_NAME}'s "
            "connection_established"
        )
    return ws


def _seq(event: Mapping[str, Any]) -> int:
    seq = event.get("seq")
    return seq if isinstance(seq, int) else 0


class V1Connection:
    """A simulated user's socket, kept from run to run as a chat client keeps it; opened
    again after a drop, or after a run that ended it (closed, timed out)."""

    def __init__(
        self, ws_url: str, token: str, connect: Connect = websocket.create_connection
    ) -> None:
        self.ws_url, self.token, self.connect = ws_url, token, connect
        self.ws: websocket.WebSocket | None = None

    def socket(self, timeout: float) -> websocket.WebSocket:
        if self.ws is None:
            self.ws = open_socket(self.ws_url, self.token, timeout, self.connect)
        return self.ws

    def drop(self) -> None:
        """Close without a close frame, as a lost network does."""
        if self.ws is not None:
            self.ws.shutdown()  # type: ignore[no-untyped-call]
            self.ws = None

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def run(
        self,
        content: str,
        *,
        drop_after: int | None,
        timeout: float,
        thread_id: str | None = None,
        read_delay: float = 0.0,
        abandon: bool = False,
    ) -> RunOutcome:
        """One run, from its message to its terminal event (or ``timeout`` seconds);
        ``thread_id`` continues that thread (the run's own is in its events).

        ``read_delay``: a slow reader, waiting that many seconds before each read; a
        socket the server closes mid-run is then opened again and resumed (§4.7, §6.2).
        ``abandon``: drop the socket after ``drop_after`` events and never resume; the
        outcome holds what arrived, checked as an unfinished run (error ``abandoned``).
        """
        try:
            return _run(self, content, drop_after, timeout, thread_id, read_delay, abandon)
        except BaseException:
            self.close()
            raise


def run_v1(
    ws_url: str,
    token: str,
    content: str,
    *,
    drop_after: int | None = None,
    timeout: float = 30.0,
    connect: Connect = websocket.create_connection,
) -> RunOutcome:
    """One run on a socket of its own, closed at the end."""
    connection = V1Connection(ws_url, token, connect)
    try:
        return connection.run(content, drop_after=drop_after, timeout=timeout)
    finally:
        connection.close()


def _run(
    connection: V1Connection,
    content: str,
    drop_after: int | None,
    timeout: float,
    thread_id: str | None,
    read_delay: float = 0.0,
    abandon: bool = False,
) -> RunOutcome:
    deadline = time.monotonic() + timeout
    ws = connection.socket(timeout)
    request_id = f"load-{uuid.uuid4().hex}"
    arrivals = Arrivals()
    resumed_from: int | None = None  # the after_seq of the resume, until its stream begins
    raced: list[tuple[Mapping[str, Any], float]] = []  # live events that came before it
    resumed = False
    terminal: Mapping[str, Any] | None = None
    error: str | None = None
    reopened = 0  # sockets the server closed under a slow reader, opened again

    def resume() -> websocket.WebSocket:
        nonlocal resumed_from, resumed
        socket = connection.socket(max(deadline - time.monotonic(), 1.0))
        if not arrivals.events:  # nothing held: the same message again replays it (§6.3)
            socket.send(json.dumps(outgoing))
            return socket
        resumed_from = max(_seq(e) for e in arrivals.events)
        socket.send(json.dumps({"type": "resume", "after_seq": resumed_from}))
        resumed = True
        return socket

    message = {"type": "user_message", "content": content, "request_id": request_id}
    outgoing = {**message, "thread_id": thread_id} if thread_id else message
    ws.send(json.dumps(outgoing))
    arrivals.sent = time.perf_counter()
    while terminal is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            error = f"no terminal event within {timeout:.0f} s"
            break
        if read_delay:
            time.sleep(read_delay)
        ws.settimeout(remaining)
        try:
            raw = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        except websocket.WebSocketConnectionClosedException:
            if read_delay and reopened < MAX_REOPEN:  # a slow consumer's close (§4.7)
                reopened += 1
                connection.close()
                ws = resume()
                continue
            error = f"the server closed the socket mid-run ({ws.status})"
            break
        at = time.perf_counter()
        frame = json.loads(raw) if raw else None
        if not isinstance(frame, dict) or frame.get("request_id") != request_id:
            continue
        if frame.get("type") == ServerFrame.ERROR.value:
            error = f"refused: {frame.get('code')}: {frame.get('message')}"
            break
        if "seq" not in frame:
            continue
        if resumed_from is not None:
            if _seq(frame) != resumed_from + 1:
                raced.append((frame, at))  # it comes again in the resumed stream (§6.2)
                continue
            resumed_from, raced = None, []
        elif resumed and frame in arrivals.events:
            continue  # a live event that raced the resume, now in its place again (§6.2)
        arrivals.add(frame, at)
        if frame.get("type") in TERMINAL:
            terminal = frame
        elif drop_after is not None and not resumed and len(arrivals.events) >= drop_after:
            connection.drop()
            if abandon:
                error = ABANDONED
                break
            ws = resume()
    if terminal is None and error != ABANDONED:
        connection.close()  # the next run starts on a fresh socket
    for frame, at in raced:  # the resumed stream never began: the checker sees what came
        arrivals.add(frame, at)
    violations = check_events(arrivals.events, require_complete=terminal is not None)
    completed = terminal is not None and terminal.get("type") == EventType.AGENT_COMPLETED.value
    if terminal is not None and not completed:
        error = f"agent_error {terminal.get('code')}: {terminal.get('message')}"
    return RunOutcome(arrivals, violations, completed, resumed, error)
