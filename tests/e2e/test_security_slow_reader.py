"""A client that stops reading cannot grow the server (security review, issue 13 §3).

The attacker is a raw ``websockets`` client on a socket with a 4 KiB kernel receive
buffer that never calls ``recv()`` while it makes the server push: many ``resume``
frames from 0 over a long history, and pings. The server must close it 1013 with its
outbox never past its bounds, and the events it could not deliver stay persisted for
a ``resume`` on a new socket. ``resume`` and ``ping`` floods are refused
``rate_limited``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.db import events
from golden_path.db.pool import connect
from golden_path.ids import EventID, RunID, UserID
from golden_path.protocol import PROTOCOL_NAME, CloseCode, ErrorCode, ServerFrame
from golden_path.services.model import Services
from golden_path.testing.reference_server import start_reference_server
from golden_path.testing.users import GoldenPathUser, create_user
from tests.e2e.support import WAIT_S

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.security,
    pytest.mark.reference_only,
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="One client that reads slowly (a bad network, or an attacker) is cut "
        "off and can resume later; everybody else's stream keeps flowing",
        revenue_impact="A process killed by one socket's unbounded buffer drops every "
        "customer's conversation on that node",
    ),
]

OUTBOX_FRAMES = 32
OUTBOX_BYTES = 64 * 1024
SEND_TIMEOUT_S = 2
RESUMES_PER_MINUTE = 8
PINGS_PER_MINUTE = 30
COPIES = 200  # of one run's events: about 2,000 events
PADDING = "x" * 3000  # bytes each, so the history is about 6 MB
QUESTION = "We send 2M tokens/day to gpt-4o and 1M to claude. How can we save?"


@pytest.fixture(scope="module")
def guarded(gp_services: Services) -> Iterator[object]:
    endpoint = start_reference_server(
        gp_services,
        ws_outbox_frames=OUTBOX_FRAMES,
        ws_outbox_bytes=OUTBOX_BYTES,
        ws_send_timeout_s=SEND_TIMEOUT_S,
        ws_resumes_per_minute=RESUMES_PER_MINUTE,
        ws_pings_per_minute=PINGS_PER_MINUTE,
    )
    try:
        yield endpoint
    finally:
        endpoint.thread.stop()


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a condition of the in-process server (another thread's loop) to hold."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


async def user_with_history(endpoint, services: Services) -> tuple[GoldenPathUser, int]:
    """An enterprise user whose stored history is far larger than every buffer between the
    server and a client that stops reading (the kernel's socket buffers can hold a few
    MiB on loopback): one real run, then its events stored again, padded, ``COPIES``
    times, straight into PostgreSQL as the server would have (``events.append``)."""
    async with GoldenPathHTTP(endpoint.base_url) as api:
        user = await create_user(api, "enterprise")
        async with await GoldenPathSocket.connect(endpoint.ws_url, user.access_token) as sock:
            run = await sock.ask(QUESTION)
    conn = await connect(services.postgres_dsn)  # with the server's JSON codecs
    try:
        async with conn.transaction():
            for copy in range(COPIES):
                for event in run.events:
                    stored = {k: v for k, v in event.items() if k != "seq"}
                    stored.update(event_id=str(EventID.new()), padding=PADDING, copy=copy)
                    last = await events.append(
                        conn, UserID(user.user_id), RunID(event["run_id"]), stored
                    )
    finally:
        await conn.close()
    return user, int(last["seq"])


async def slow_reader(ws_url: str, token: str) -> ClientConnection:
    """A real socket whose client reads nothing: 4 KiB receive buffer, one frame queued."""
    parts = urlsplit(ws_url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (parts.hostname, parts.port))
    return await websockets.connect(
        ws_url,
        sock=raw,
        max_queue=1,
        subprotocols=[PROTOCOL_NAME],
        additional_headers={"Authorization": f"Bearer {token}"},
        ping_interval=None,
    )


async def drain(ws: ClientConnection) -> int:
    """Read until the server's close; how many frames came before it."""
    received = 0
    try:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT_S)
            received += 1
    except websockets.ConnectionClosed:
        return received


def server_connection(endpoint, user: GoldenPathUser):
    """The server's own ``Connection`` object for ``user``'s one open socket."""
    state = endpoint.thread.app_state
    mine = [c for c in state.sockets if str(c.principal.user_id) == user.user_id]
    return mine[0] if len(mine) == 1 else None


async def test_a_slow_reader_is_closed_1013_bounded_and_loses_no_event(guarded, gp_services):
    user, newest = await user_with_history(guarded, gp_services)
    attacker = await slow_reader(guarded.ws_url, user.access_token)
    try:
        await until(lambda: server_connection(guarded, user) is not None, WAIT_S, "the socket")
        connection = server_connection(guarded, user)
        # Make the server push far more than the socket can take: every resume re-sends the
        # whole history; the pings queue pongs behind it.
        for _ in range(RESUMES_PER_MINUTE):
            await attacker.send(json.dumps({"type": "resume", "after_seq": 0}))
        for _ in range(PINGS_PER_MINUTE):
            await attacker.send(json.dumps({"type": "ping"}))
        await until(lambda: connection.close_code is not None, WAIT_S, "the server to close")
        assert connection.close_code == CloseCode.SLOW_CONSUMER
        assert connection.outbox_frames == 0  # the close jumped the backlog
        assert connection.peak_outbox_frames <= OUTBOX_FRAMES
        assert connection.peak_outbox_bytes <= OUTBOX_BYTES
        # Now read: what was already on its way, then the close, with the documented code.
        received = await drain(attacker)
        assert attacker.close_code == CloseCode.SLOW_CONSUMER, attacker.close_reason
        assert received < RESUMES_PER_MINUTE * newest  # it was cut off, not served in full
    finally:
        await attacker.close()
    # Everything is still there for a well-behaved resume on a fresh socket.
    async with await GoldenPathSocket.connect(guarded.ws_url, user.access_token) as fresh:
        since = len(fresh.received())
        await fresh.resume(0)
        await fresh.wait_for(lambda f: f.get("seq") == newest, WAIT_S, what="the newest event")
        seqs = [f["seq"] for f in fresh.received()[since:] if "seq" in f]
    assert seqs == list(range(1, newest + 1))


async def test_resume_and_ping_floods_are_refused_rate_limited(guarded):
    async with GoldenPathHTTP(guarded.base_url) as api:
        user = await create_user(api, "mid")
    async with await GoldenPathSocket.connect(guarded.ws_url, user.access_token) as sock:
        since = len(sock.received())
        for _ in range(RESUMES_PER_MINUTE + 1):
            await sock.resume(0)
        refused = await sock.wait_for(
            lambda f: f.get("type") == ServerFrame.ERROR.value,
            WAIT_S,
            what="a refusal",
            since=since,
        )
        assert refused["code"] == ErrorCode.RATE_LIMITED
        assert refused["retry_after_ms"] > 0
        assert refused["retryable"] is True
        assert "resume" in refused["message"]
        since = len(sock.received())
        for _ in range(PINGS_PER_MINUTE + 1):
            await sock.send({"type": "ping"})
        refused = await sock.wait_for(
            lambda f: f.get("type") == ServerFrame.ERROR.value,
            WAIT_S,
            what="a refusal",
            since=since,
        )
        assert refused["code"] == ErrorCode.RATE_LIMITED
        assert "ping" in refused["message"]
        pongs = [f for f in sock.received()[since:] if f.get("type") == ServerFrame.PONG.value]
        assert len(pongs) <= PINGS_PER_MINUTE
        # Past 20 such refusals within a minute the socket is closed as abusive.
        for _ in range(25):
            await sock.send({"type": "ping"})
        assert await sock.wait_closed(WAIT_S) == CloseCode.PROTOCOL_ERRORS
