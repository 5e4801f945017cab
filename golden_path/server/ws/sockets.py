"""The open sockets of this node, so a graceful stop can close every one with 1001."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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
