"""The open sockets of this node: a graceful stop closes each 1001, a logout its own 4401."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from golden_path.ids import UserID
from golden_path.protocol import CloseCode
from golden_path.server.ws.connection import Connection

CLOSE_WAIT_S = 5.0


class OpenSockets:
    """Every open connection of this node, and whether the node still takes new ones."""

    def __init__(self) -> None:
        self._open: set[Connection] = set()
        self.closing = False

    def add(self, connection: Connection) -> None:
        self._open.add(connection)

    def discard(self, connection: Connection) -> None:
        self._open.discard(connection)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._open))

    def __len__(self) -> int:
        return len(self._open)

    def end_sessions(self, user_id: UserID | str, family: str | None) -> int:
        """Close 4401 the user's sockets of ``family`` (None: all of them); how many."""
        ended = 0
        for connection in list(self._open):
            principal = connection.principal
            if str(principal.user_id) != str(user_id):
                continue
            if family is None or principal.family == family:
                connection.close(CloseCode.UNAUTHORIZED, "session ended")
                ended += 1
        return ended

    async def close_all(self, reason: str, timeout: float = CLOSE_WAIT_S) -> None:
        """Refuse new sockets; close each open one with 1001 and wait (up to ``timeout``)."""
        self.closing = True
        connections = list(self._open)
        for connection in connections:
            connection.close(CloseCode.GOING_AWAY, reason)
        waits = [asyncio.ensure_future(c.closed.wait()) for c in connections]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=timeout)
            for wait in pending:
                wait.cancel()
