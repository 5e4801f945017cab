"""A client that stops reading cannot grow the server (security review, issue 13 §3).

The attacker is a raw ``websockets`` client on a socket with a 4 KiB kernel receive
buffer that never calls ``recv()`` while it makes the server push: many ``resume``
frames from 0 over a long history, and pings. The server must close it 1013 with its
outbox never past its bounds, and the events it could not deliver stay persisted for
a ``resume`` on a new socket. ``resume`` and ``ping`` floods are refused
``rate_limited``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.conformance.support import WAIT_S, server_connection, until
from golden_path.db import events
from golden_path.db.pool import connect
from golden_path.ids import EventID, RunID, UserID
from golden_path.protocol import CloseCode, ErrorCode, ServerFrame
from golden_path.services.model import Services
from golden_path.testing.identity.users import GoldenPathUser, create_user
from golden_path.testing.server.reference import start_reference_server
from golden_path.testing.v1.attacks import drain, slow_reader

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
PATIENT_SEND_TIMEOUT_S = 3600
REPLAY_BUDGET = 10
COPIES = 400  # of one run's events: about 2,400 events
# Random characters each, different in every event: the server compresses its frames
# (permessage-deflate), and a repeated padding would shrink to almost nothing on the wire.
PADDING_BYTES = 3000  # so the history is about 7 MB, 5.4 MB of it on the wire
QUESTION = "We send 2M tokens/day to gpt-4o and 1M to claude. How can we save?"


@pytest.fixture(scope="module")
def guarded(gp_services: Services) -> Iterator[object]:
    with start_reference_server(
        gp_services,
        ws_outbox_frames=OUTBOX_FRAMES,
        ws_outbox_bytes=OUTBOX_BYTES,
        ws_send_timeout_s=SEND_TIMEOUT_S,
        ws_resumes_per_minute=RESUMES_PER_MINUTE,
        ws_pings_per_minute=PINGS_PER_MINUTE,
    ) as endpoint:
        yield endpoint


async def user_with_history(endpoint, services: Services) -> tuple[GoldenPathUser, int]:
    """An enterprise user whose stored history is far larger than every buffer between the
    server and a client that stops reading (the kernel's socket buffers can hold a few
    MiB on loopback): one real run, then its events stored again, padded, ``COPIES``
    times, straight into PostgreSQL, numbered as the server numbers them."""
    async with GoldenPathHTTP(endpoint.base_url) as api:
        user = await create_user(api, "enterprise")
        async with await GoldenPathSocket.connect(endpoint.ws_url, user.access_token) as sock:
            run = await sock.ask(QUESTION)
    batch = [
        (
            RunID(event["run_id"]),
            {k: v for k, v in event.items() if k != "seq"}
            | {
                "event_id": str(EventID.new()),
                "padding": secrets.token_urlsafe(PADDING_BYTES * 3 // 4),
                "copy": copy,
            },
        )
        for copy in range(COPIES)
        for event in run.events
    ]
    conn = await connect(services.postgres_dsn)  # with the server's JSON codecs
    try:
        seqs = await events.append_many(conn, UserID(user.user_id), batch)
    finally:
        await conn.close()
    return user, seqs[-1]


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
        received = await drain(attacker, WAIT_S)
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


@pytest.fixture(scope="module")
def patient(gp_services: Services) -> Iterator[object]:
    """A node that never gives up on a slow socket by itself: an outbox that never fills
    and a send timeout longer than any test, so only an urgent close can cut it short."""
    with start_reference_server(
        gp_services,
        ws_outbox_frames=100_000,
        ws_outbox_bytes=1 << 30,
        ws_send_timeout_s=PATIENT_SEND_TIMEOUT_S,
    ) as endpoint:
        yield endpoint


async def stuck_behind_a_resume(endpoint, user: GoldenPathUser, attacker, pongs: int):
    """Make ``attacker``'s socket stuck: a resume of the whole history, whose writes block
    on the full socket, with ``pongs`` pongs waiting behind it; the server's connection."""
    await until(lambda: server_connection(endpoint, user) is not None, WAIT_S, "the socket")
    connection = server_connection(endpoint, user)
    await attacker.send(json.dumps({"type": "resume", "after_seq": 0}))
    for _ in range(pongs):
        await attacker.send(json.dumps({"type": "ping"}))
    await until(lambda: connection.outbox_frames >= pongs, WAIT_S, "a stuck backlog")
    return connection


async def test_a_logout_closes_a_stuck_socket_4401_ahead_of_its_backlog(patient, gp_services):
    """The backlog of a socket that stopped reading must not delay the end of its session:
    the 4401 is sent now, not after the frames queued before it (or the send timeout)."""
    user, _ = await user_with_history(patient, gp_services)
    attacker = await slow_reader(patient.ws_url, user.access_token)
    try:
        connection = await stuck_behind_a_resume(patient, user, attacker, pongs=8)
        async with GoldenPathHTTP(patient.base_url) as api:
            await api.logout(user.access_token)
        await until(lambda: connection.close_code is not None, WAIT_S, "the session to end")
        assert connection.close_code == CloseCode.UNAUTHORIZED
        assert connection.outbox_frames == 0  # the backlog was dropped, not sent first
        # Now read: what was already on its way, then the close, with the documented code
        # (the close frame waits up to 2 s for the room this makes).
        await drain(attacker, WAIT_S)
        assert attacker.close_code == CloseCode.UNAUTHORIZED, attacker.close_reason
        await until(lambda: connection.closed.is_set(), WAIT_S, "the socket's sender to end")
    finally:
        await attacker.close()


async def refusal_since(sock: GoldenPathSocket, since: int) -> dict:
    """The first ``error`` frame ``sock`` received after its ``since``-th frame."""
    return await sock.wait_for(
        lambda f: f.get("type") == ServerFrame.ERROR.value, WAIT_S, what="a refusal", since=since
    )


def held_by_a_process(server_port: int, client_port: int) -> bool:
    """Whether the server's end of the TCP connection to ``client_port`` is still a socket a
    process holds (a line of ``/proc/net/tcp`` with an inode), in any state."""
    wanted = (f"{server_port:04X}", f"{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1].split(":")[1], fields[2].split(":")[1], fields[9]
        if (local, remote) == wanted and inode != "0":
            return True
    return False


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
async def test_a_socket_that_never_reads_again_is_dropped_not_held(patient, gp_services):
    """Closed while stuck, a socket cannot take even its close frame. The server must then
    drop the connection (its descriptor and buffers) rather than hold it for as long as
    the client keeps answering the kernel's probes of a shut window."""
    user, _ = await user_with_history(patient, gp_services)
    attacker = await slow_reader(patient.ws_url, user.access_token)
    server_port, client_port = urlsplit(patient.ws_url).port, attacker.local_address[1]
    try:
        connection = await stuck_behind_a_resume(patient, user, attacker, pongs=2)
        assert held_by_a_process(server_port, client_port)
        async with GoldenPathHTTP(patient.base_url) as api:
            await api.logout(user.access_token)
        # The client still reads nothing: the server gives up on it by itself.
        await until(
            lambda: not held_by_a_process(server_port, client_port),
            WAIT_S,
            "the server to drop the stuck connection",
        )
        assert connection.close_code == CloseCode.UNAUTHORIZED
    finally:
        attacker.transport.abort()


async def test_a_burst_of_resumes_keeps_only_the_last_one_waiting(patient, gp_services):
    """Each resume re-sends the history after its point, and only the last one asked for
    decides what the client gets: on a stuck socket, 10 resumes leave one waiting, not 10
    (the server would otherwise read and send the whole history 10 times)."""
    user, _ = await user_with_history(patient, gp_services)
    attacker = await slow_reader(patient.ws_url, user.access_token)
    try:
        await until(lambda: server_connection(patient, user) is not None, WAIT_S, "the socket")
        connection = server_connection(patient, user)
        await attacker.send(json.dumps({"type": "resume", "after_seq": 0}))
        await until(lambda: connection.replayed.last_minute() > 0, WAIT_S, "the first resume")
        for _ in range(10):
            await attacker.send(json.dumps({"type": "resume", "after_seq": 0}))
        await attacker.send(json.dumps({"type": "ping"}))  # handled after the 10 resumes
        await until(lambda: connection.outbox_frames >= 2, WAIT_S, "the pong to queue")
        assert connection.outbox_frames == 2  # one resume waiting, then the pong
    finally:
        attacker.transport.abort()


@pytest.fixture(scope="module")
def budgeted(gp_services: Services) -> Iterator[object]:
    """A node whose sockets' resumes may send 10 stored events a minute."""
    with start_reference_server(gp_services, ws_replay_events_per_minute=REPLAY_BUDGET) as endpoint:
        yield endpoint


async def test_resumes_past_their_replay_allowance_are_refused_rate_limited(budgeted):
    """A resume is cheap to send and costs the server the whole history after its point:
    once a socket's resumes have sent the allowance of events in a minute, the next is
    refused, with the wait, before anything is read."""
    async with GoldenPathHTTP(budgeted.base_url) as api:
        user = await create_user(api, "mid")
    async with await GoldenPathSocket.connect(budgeted.ws_url, user.access_token) as sock:
        for _ in range(2):
            await sock.ask(QUESTION)
        newest = max(f["seq"] for f in sock.events())
        assert newest > REPLAY_BUDGET
        since = len(sock.received())
        await sock.resume(0)  # under the allowance when asked: served in full
        await sock.wait_for(
            lambda f: f.get("seq") == newest, WAIT_S, what="the newest event", since=since
        )
        since = len(sock.received())
        await sock.resume(0)
        refused = await refusal_since(sock, since)
        assert refused["code"] == ErrorCode.RATE_LIMITED
        assert "events" in refused["message"]
        assert 0 < refused["retry_after_ms"] <= 60_000
        await sock.ping(WAIT_S)
        assert not [f for f in sock.received()[since:] if "seq" in f]  # nothing re-sent


async def test_resume_and_ping_floods_are_refused_rate_limited(guarded):
    async with GoldenPathHTTP(guarded.base_url) as api:
        user = await create_user(api, "mid")
    async with await GoldenPathSocket.connect(guarded.ws_url, user.access_token) as sock:
        since = len(sock.received())
        for _ in range(RESUMES_PER_MINUTE + 1):
            await sock.resume(0)
        refused = await refusal_since(sock, since)
        assert refused["code"] == ErrorCode.RATE_LIMITED
        assert refused["retry_after_ms"] > 0
        assert refused["retryable"] is True
        assert "resume" in refused["message"]
        since = len(sock.received())
        for _ in range(PINGS_PER_MINUTE + 1):
            await sock.send({"type": "ping"})
        refused = await refusal_since(sock, since)
        assert refused["code"] == ErrorCode.RATE_LIMITED
        assert "ping" in refused["message"]
        pongs = [f for f in sock.received()[since:] if f.get("type") == ServerFrame.PONG.value]
        assert len(pongs) <= PINGS_PER_MINUTE
        # Past 20 such refusals within a minute the socket is closed as abusive.
        for _ in range(25):
            await sock.send({"type": "ping"})
        assert await sock.wait_closed(WAIT_S) == CloseCode.PROTOCOL_ERRORS
