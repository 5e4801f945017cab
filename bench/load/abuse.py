"""Phase 4, abuse beside the normal load: the open loop again, with a slow reader and a
login flood running through it (issue 13's "sockets that cannot eat the server").

* The slow reader is a second socket of one of the loop's users, on a 4 KiB receive
  buffer, that never reads: it gets that user's live events and floods ``resume`` and
  ``ping`` frames. The server must close it (1013, or 4400/``rate_limited`` for the
  floods) while its user's real socket loses nothing.
* The login flood POSTs ``/auth/login`` with wrong passwords from many connections at
  once, bounded in count; its answers (401, 429, 503) are counted.

Printed beside phase 1a's plain run: everybody else's p50/p99 (each must stay within 2x),
the server's peak RSS (``VmHWM``) and the delivery check of the loop's sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import websockets

from bench.load.cpu import CpuMeter
from bench.load.latency import LatencyResult, phase_latency
from bench.load.progress import Progress
from bench.load.runs import Failures
from golden_path.client import GoldenPathHTTP
from golden_path.protocol import PROTOCOL_NAME
from golden_path.testing.users import GoldenPathUser

LOGINS = 400
LOGIN_CONCURRENCY = 16
FLOOD_FRAMES = 400


@dataclass
class AbuseResult:
    abused: LatencyResult
    slow_reader_close: int | None = None
    slow_reader_frames_sent: int = 0
    logins: Counter[int] = field(default_factory=Counter)
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0


def memory_mb(pid: int | None, field_name: str) -> float:
    """``VmRSS`` or ``VmHWM`` (the peak) of ``pid``, in MiB (0 when unknown)."""
    if pid is None:
        return 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _slow_reader(ws_url: str, token: str, result: AbuseResult, stop: asyncio.Event) -> None:
    parts = urlsplit(ws_url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (parts.hostname, parts.port))
    ws = await websockets.connect(
        ws_url,
        sock=raw,
        max_queue=1,
        subprotocols=[PROTOCOL_NAME],
        additional_headers={"Authorization": f"Bearer {token}"},
        ping_interval=None,
    )
    try:
        for n in range(FLOOD_FRAMES):
            if stop.is_set():
                break
            frame = {"type": "resume", "after_seq": 0} if n % 2 else {"type": "ping"}
            await asyncio.wait_for(ws.send(json.dumps(frame)), 5)
            result.slow_reader_frames_sent += 1
            await asyncio.sleep(0.01)  # a steady trickle through the whole loop, not a burst
    except (websockets.ConnectionClosed, TimeoutError, OSError):
        pass
    finally:
        result.slow_reader_close = ws.close_code
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 2)
        if result.slow_reader_close is None:
            result.slow_reader_close = ws.close_code


async def _login_flood(base_url: str, result: AbuseResult) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(LOGINS):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            email = f"nobody-{uuid.uuid4().hex[:8]}@flood.example"
            try:
                answer = await client.post(
                    "/auth/login", json={"email": email, "password": "wrong-password-123"}
                )
                result.logins[answer.status_code] += 1
            except httpx.HTTPError:
                result.logins[0] += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(LOGIN_CONCURRENCY)))


async def phase_abuse(
    api: GoldenPathHTTP,
    base_url: str,
    ws_url: str,
    people: list[GoldenPathUser],
    rate: float,
    messages_each: int,
    progress: Progress,
    failures: Failures,
    server_pid: int | None,
) -> AbuseResult:
    """The open loop of phase 1a once more, a slow reader and a login flood beside it."""
    result = AbuseResult(abused=None)  # type: ignore[arg-type]
    result.rss_before_mb = memory_mb(server_pid, "VmRSS")
    stop = asyncio.Event()
    slow = asyncio.create_task(_slow_reader(ws_url, people[0].access_token, result, stop))
    flood = asyncio.create_task(_login_flood(base_url, result))
    try:
        result.abused = await phase_latency(
            api, ws_url, people, rate, messages_each, 0, progress, failures, CpuMeter(server_pid)
        )
    finally:
        stop.set()
        await asyncio.gather(slow, flood, return_exceptions=True)
    result.peak_rss_mb = memory_mb(server_pid, "VmHWM")
    return result
