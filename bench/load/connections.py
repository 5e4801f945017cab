"""Phase 3, held connections: many sockets open at once, every event reaching every one.

C sockets over ceil(C/50) users (the enterprise plan allows 50 each), all open at once;
every 10th sends one message, and every socket of those users must receive every event
of its user.

Not on Locust: one process must hold every socket, to compare what each received with
what the server stored for its user; a Locust user has one connection, one run at a time.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from bench.load.cpu import CpuMeter
from bench.load.delivery import Delivery, check_delivery
from bench.load.progress import Progress, say
from bench.load.runs import Failures, one_run
from bench.load.settings import SAMPLE_EVERY, TIER
from bench.load.sockets import Tracked, close_sockets, make_users, open_sockets
from golden_path.client import GoldenPathHTTP


@dataclass
class ConnectionsResult:
    """Sockets wanted, opened and held to the end, and why any did not open."""

    wanted: int
    users: int
    opened: int
    held: int
    sent: int
    refused: list[str]
    delivery: Delivery
    open_seconds: float
    cpu: CpuMeter


async def phase_connections(
    api: GoldenPathHTTP,
    ws_url: str,
    wanted: int,
    progress: Progress,
    failures: Failures,
    cpu: CpuMeter,
) -> ConnectionsResult:
    per_user = TIER.limits.open_websockets
    people = await make_users(api, math.ceil(wanted / per_user))
    owners = [people[i // per_user] for i in range(wanted)]  # blocks of 50: 5 senders each
    say(f"phase 3: opening {wanted} sockets for {len(people)} users")
    cpu.start()
    began = time.perf_counter()
    tracked, refused = await open_sockets(ws_url, owners)
    open_seconds = time.perf_counter() - began
    try:
        senders = tracked[::SAMPLE_EVERY]
        progress.begin(f"phase 3, {len(tracked)} sockets open", len(senders))

        async def send(t: Tracked) -> None:
            await one_run(t, failures)
            progress.tick()

        await asyncio.gather(*(send(t) for t in senders))
        cpu.stop(len(senders))
        progress.end()
        delivery = await check_delivery(api, tracked)
        held = sum(1 for t in tracked if t.sock.close_code is None)
        return ConnectionsResult(
            wanted,
            len(people),
            len(tracked),
            held,
            len(senders),
            refused,
            delivery,
            open_seconds,
            cpu,
        )
    finally:
        progress.end()
        await close_sockets(tracked)
