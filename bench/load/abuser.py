"""Phase 4's abusers, in a process of their own (not in the load generator's event loop).

Usage (``bench.load.abuse`` starts it; by hand only to watch it)::

    python -m bench.load.abuser --base-url URL --token ACCESS_TOKEN --email EMAIL

It prints ``ready`` once the slow reader's socket is open, abuses the server until its
stdin is closed, then prints what it saw as one JSON line and exits.

* **The slow reader** is a socket of the user whose ``--token`` it has (the attacker's
  own account, not one of the loop's users, with a history of its own runs), on a
  4 KiB receive buffer, that never reads. It stays inside the per-socket allowances
  (a ``resume`` from 0 every 2.5 s, a ``ping`` a second): what must stop it is the
  outbox bound or the send timeout (1013), not a rate limit.
* **The login flood** sends ``--flood-rate`` logins a second with wrong passwords, half
  against ``--email`` (guessing one account), half against unknown emails (spraying),
  from ``--flood-addresses`` loopback addresses of their own (127.0.0.2 and on), never
  127.0.0.1: the server's per-address throttle meets them at its default, and the
  addresses that get through it meet the hashing bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.protocol import State

from golden_path.protocol import websocket_url
from golden_path.testing.v1.attacks import drain, slow_reader

RESUME_EVERY_S = 2.5  # 24 a minute: inside the default allowance of 30
PING_EVERY_S = 1.0  # 60 a minute: inside the default allowance of 120
DRAIN_TIMEOUT_S = 5.0
FLOOD_IN_FLIGHT = 64  # logins waiting for an answer at once, at most (the flood's memory)
WRONG_PASSWORD = "wrong-password-123"  # noqa: S105 - the point of the flood


def flood_address(index: int) -> str:
    """The ``index``-th flood address: 127.0.0.2, 127.0.0.3, ... (never 127.0.0.1)."""
    return f"127.0.{(index + 2) // 256}.{(index + 2) % 256}"


async def trickle(ws: ClientConnection, stop: asyncio.Event) -> dict[str, Any]:
    """Send ``resume``/``ping`` within their allowances, reading nothing, until ``stop``
    or until the server cuts the socket; then read what arrived, up to its close."""
    started, sent = time.perf_counter(), 0
    next_resume = next_ping = started
    try:
        while not stop.is_set():
            now = time.perf_counter()
            if now >= next_resume:
                await asyncio.wait_for(ws.send(json.dumps({"type": "resume", "after_seq": 0})), 5)
                next_resume, sent = now + RESUME_EVERY_S, sent + 1
            if now >= next_ping:
                await asyncio.wait_for(ws.send(json.dumps({"type": "ping"})), 5)
                next_ping, sent = now + PING_EVERY_S, sent + 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(next_resume, next_ping) - now)
    except (websockets.ConnectionClosed, TimeoutError, OSError):
        pass  # a write failed: the server closed or cut the socket
    stopped_after = time.perf_counter() - started
    # What the server did shows only once the client reads: the frames already on their
    # way, then its close frame (or a reset, 1006, if it gave up on a socket that was full).
    with contextlib.suppress(TimeoutError):
        await drain(ws, DRAIN_TIMEOUT_S)
    code = ws.close_code if ws.state is State.CLOSED else None
    if code is None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 2)
    return {
        "close_code": code,
        "close_reason": ws.close_reason if code is not None else None,
        "frames_sent": sent,
        "sending_for_s": round(stopped_after, 2),
    }


async def login_flood(
    base_url: str, email: str, rate: float, addresses: int, stop: asyncio.Event
) -> dict[str, Any]:
    """``rate`` wrong-password logins a second from ``addresses`` addresses, until ``stop``."""
    answers: Counter[str] = Counter()
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            timeout=30,
            transport=httpx.AsyncHTTPTransport(local_address=flood_address(i)),
        )
        for i in range(addresses)
    ]
    in_flight = asyncio.Semaphore(FLOOD_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        target = email if n % 2 else f"nobody-{uuid.uuid4().hex[:12]}@flood.example"
        try:
            answer = await clients[n % addresses].post(
                "/auth/login", json={"email": target, "password": WRONG_PASSWORD}
            )
            answers[str(answer.status_code)] += 1
        except httpx.HTTPError:
            answers["no answer"] += 1
        finally:
            in_flight.release()

    t0, n = time.perf_counter(), 0
    try:
        while not stop.is_set():
            delay = t0 + n / rate - time.perf_counter()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            await in_flight.acquire()  # more than FLOOD_IN_FLIGHT unanswered: wait, not grow
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for client in clients:
            await client.aclose()
    return {"sent": n, "seconds": round(time.perf_counter() - t0, 2), "answers": dict(answers)}


async def abuse(args: argparse.Namespace) -> dict[str, Any]:
    stop = asyncio.Event()
    ws = await asyncio.wait_for(slow_reader(websocket_url(args.base_url), args.token), 30)
    reader = asyncio.create_task(trickle(ws, stop))
    flood = asyncio.create_task(
        login_flood(args.base_url, args.email, args.flood_rate, args.flood_addresses, stop)
    )
    print("ready", flush=True)
    # Told to stop by the end of stdin (the load generator closed it, or died).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    return {"slow_reader": await reader, "logins": await flood}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.abuser")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True, help="the slow reader's access token")
    parser.add_argument("--email", required=True, help="the account the flood guesses at")
    parser.add_argument("--flood-rate", type=float, default=50.0)
    parser.add_argument("--flood-addresses", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.flood_rate > 0 or args.flood_addresses < 1:
        parser.error("--flood-rate must be positive and --flood-addresses at least 1")
    # A real attacker's client runs on its own machine. On the benchmark's, its CPU would
    # be taken from the server's: it runs at the lowest priority, on the CPU left idle,
    # and reports the rate it reached.
    with contextlib.suppress(OSError):
        os.nice(19)
    print(json.dumps(asyncio.run(abuse(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
