"""uvicorn's WebSocket protocol with one change: a socket that stopped reading is dropped
once the app is done with it, instead of being held for good.

uvicorn ends a WebSocket by closing its transport, and asyncio closes the socket only
once everything buffered for it has been written. A client that never reads again never
lets that happen: by answering the kernel's zero-window probes it keeps the connection,
its file descriptor and a few MiB of buffers alive for as long as it likes, and so could
a thousand such clients. Here, :data:`ABORT_AFTER_S` after the app has returned:

* a connection with bytes still waiting to be written is reset, and its buffers (ours
  and the kernel's) are freed at once;
* one with nothing left to write whose client has not answered the close frame is
  closed (the kernel still delivers what it has, then ends the connection).

A client that reads gets everything, close frame included, long before that.
``runner.uvicorn_config`` serves every WebSocket with this protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

log = logging.getLogger(__name__)

ABORT_AFTER_S = 2.0

if AutoWebSocketsProtocol is None:  # pragma: no cover - websockets is a dependency
    raise ImportError("uvicorn found no WebSocket library: install websockets")


class WebSocketProtocol(AutoWebSocketsProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's own protocol (``ws="auto"``), dropping a stuck socket after its app ends."""

    async def run_asgi(self) -> None:
        try:
            await super().run_asgi()
        finally:
            asyncio.get_running_loop().call_later(ABORT_AFTER_S, self._drop_if_stuck)

    def _drop_if_stuck(self) -> None:
        transport = self.transport
        unsent = transport.get_write_buffer_size()
        if transport.is_closing() and not unsent:
            return  # closed, or closing with nothing left to write: asyncio finishes it
        sock = transport.get_extra_info("socket")
        if unsent and sock is not None:
            log.info("resetting a WebSocket whose client stopped reading (%d bytes unsent)", unsent)
            # Linger 0: the close resets the connection, so the kernel frees what it holds
            # for it at once, rather than keep probing a window that stays shut.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
