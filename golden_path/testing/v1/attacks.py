"""Abusive clients, for a suite (or a benchmark) to carry an attack out for real.

``slow_reader`` opens a WebSocket whose client never reads: a 4 KiB kernel receive
buffer and a library that stops reading once one message waits. Whatever the server
sends piles up in its own buffers, which is what a server with an unbounded outbox
cannot survive. ``drain`` then reads everything that did arrive, up to the server's
close, so a test can check the close code it was sent.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from golden_path.protocol import PROTOCOL_NAME

SLOW_READER_BUFFER = 4096


async def slow_reader(ws_url: str, token: str) -> ClientConnection:
    """A real socket of ``token``'s user that reads nothing (4 KiB buffer, one frame queued)."""
    parts = urlsplit(ws_url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Set before connect, so that the TCP window the server sees is this small.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_READER_BUFFER)
    raw.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(raw, (parts.hostname, parts.port))
        return await websockets.connect(
            ws_url,
            sock=raw,
            max_queue=1,  # the library stops reading the socket once one message waits
            subprotocols=[Subprotocol(PROTOCOL_NAME)],
            additional_headers={"Authorization": f"Bearer {token}"},
            ping_interval=None,
        )
    except BaseException:
        raw.close()
        raise


async def drain(ws: ClientConnection, timeout_s: float) -> int:
    """Read until the server's close (each read within ``timeout_s``); the frames read."""
    received = 0
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout_s)
            received += 1
    except websockets.ConnectionClosed:
        return received
