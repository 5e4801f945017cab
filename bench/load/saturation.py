"""Phase 1b, saturation on a closed loop: queueing at full load, not what a user sees.

The same N users, one new socket each, send M messages, one at a time (send
``user_message``, wait for its ``agent_completed``, send the next at once). With no
pause between messages the mean latency is N / throughput (Little's law).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.load.cpu import CpuMeter
from bench.load.delivery import Delivery, check_delivery
from bench.load.progress import Progress
from bench.load.runs import Failures, serial_runs
from bench.load.settings import BenchError
from bench.load.sockets import close_sockets, open_sockets
from golden_path.client import GoldenPathHTTP
from golden_path.testing.identity.users import GoldenPathUser


@dataclass
class SaturationResult:
    """The closed loop's latencies and rate."""

    users: int
    runs: int
    latencies_ms: list[float]
    seconds: float
    events: int
    delivery: Delivery
    cpu: CpuMeter

    @property
    def runs_per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def phase_saturation(
    api: GoldenPathHTTP,
    ws_url: str,
    people: list[GoldenPathUser],
    messages_each: int,
    progress: Progress,
    failures: Failures,
    cpu: CpuMeter,
) -> SaturationResult:
    """Closed loop: every user sends its next message as soon as its previous run ended."""
    tracked, errors = await open_sockets(ws_url, people)
    try:
        if errors:
            raise BenchError(f"phase 1b: {len(errors)} sockets did not open: {errors[0]}")
        latencies: list[float] = []
        progress.begin(f"phase 1b, {len(tracked)} users", len(tracked) * messages_each)
        events_before = sum(len(t.sock.events()) for t in tracked)
        cpu.start()
        began = time.perf_counter()
        await asyncio.gather(
            *(serial_runs(t, messages_each, failures, progress, latencies) for t in tracked)
        )
        seconds = time.perf_counter() - began
        cpu.stop(len(latencies))
        progress.end()
        received = sum(len(t.sock.events()) for t in tracked) - events_before
        delivery = await check_delivery(api, tracked)
        return SaturationResult(
            len(tracked),
            len(tracked) * messages_each,
            latencies,
            seconds,
            received,
            delivery,
            cpu,
        )
    finally:
        progress.end()
        await close_sockets(tracked)
