"""Phase 1a, latency on an open loop: the figures the latency targets are judged on.

N users, one socket each; after W warm-up messages per user, the M runs of one user
alone, one at a time, give the service time without queueing. Then every user sends M
messages on a schedule fixed in advance, R messages/s in total: user i sends its k-th
message at t0 + (i/N + k) * N/R (every user every N/R s, the users evenly staggered),
whether or not its earlier runs have ended (several may be in flight; enterprise allows
20 at once). This is the latency a user sees with N users on the server. Reported with
the achieved send rate, runs/s completed and the late sends (started more than 5 ms
after their scheduled time); if more than 5% are late, the load generator fell behind
and bounds the figures.

Not on Locust: an open loop sends on its schedule whether or not a user's earlier runs
have ended, and judges its own lateness; a Locust user's task waits for its run.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.load.cpu import CpuMeter
from bench.load.delivery import Delivery, check_delivery
from bench.load.progress import Progress
from bench.load.runs import ANSWERS, COMPLETED, Failures, last_completed_run, serial_runs
from bench.load.settings import (
    COLLECT_EVERY_S,
    CONTENT,
    LATE_MS,
    LATE_SHARE,
    RUN_TIMEOUT_S,
    BenchError,
)
from bench.load.sockets import Tracked, close_sockets, open_sockets
from bench.load.stats import rate_over
from golden_path.client import GoldenPathHTTP
from golden_path.testing.identity.users import GoldenPathUser


@dataclass
class Send:
    """One ``user_message`` of the open loop: when it was due, when it went, what came back."""

    t: Tracked
    request_id: str
    due: float
    sent_at: float
    answer: dict[str, Any] | None = None
    arrived: float = math.nan

    @property
    def late_ms(self) -> float:
        return (self.sent_at - self.due) * 1000


@dataclass
class LatencyResult:
    """The open loop's latencies, its schedule kept or missed, and one run's events."""

    users: int
    rate: float
    planned: int
    alone_ms: list[float]
    latencies_ms: list[float]
    late_ms: list[float]
    send_rate: float
    runs_per_s: float
    events: int
    delivery: Delivery
    cpu: CpuMeter
    sample_run: list[dict[str, Any]]

    @property
    def late(self) -> int:
        """Sends that started more than ``LATE_MS`` after their scheduled time."""
        return sum(1 for late in self.late_ms if late > LATE_MS)

    @property
    def generator_bound(self) -> bool:
        """The load generator fell behind its schedule: the latencies are bounded by it."""
        return bool(self.late_ms) and self.late > LATE_SHARE * len(self.late_ms)


async def open_loop(
    tracked: Sequence[Tracked],
    rate: float,
    messages_each: int,
    progress: Progress,
) -> list[Send]:
    """Send on a fixed schedule, whatever comes back; collect each answer by ``request_id``.

    User ``i`` of ``n`` sends its ``k``-th message at ``t0 + (i/n + k) * n/rate``: every user
    every ``n/rate`` s, the users evenly staggered. Answers are read from each socket's
    transcript (its receive timestamps) by one collector, so no one waits for a run to send.
    """
    count = len(tracked)
    period = count / rate
    sends: list[Send] = []
    waiting: dict[str, Send] = {}
    cursors = [0] * count
    sending_done = asyncio.Event()

    async def user(index: int, t: Tracked, t0: float) -> None:
        for k in range(messages_each):
            due = t0 + (index / count + k) * period
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            handle = await t.sock.send_message(CONTENT)
            send = Send(t, handle.request_id, due, handle.sent_at)
            sends.append(send)
            waiting[send.request_id] = send

    def collect() -> None:
        for number, t in enumerate(tracked):
            transcript = t.sock.transcript
            for entry in transcript[cursors[number] :]:
                frame = entry.frame
                if entry.direction != "received" or not isinstance(frame, dict):
                    continue
                send = waiting.get(str(frame.get("request_id")))
                if send is not None and frame.get("type") in ANSWERS:
                    send.answer, send.arrived = frame, entry.at
                    del waiting[send.request_id]
                    progress.tick()
            cursors[number] = len(transcript)

    async def collector() -> None:
        deadline = math.inf
        while True:
            collect()
            progress.detail = f"({sum(1 for s in sends if s.late_ms > LATE_MS)} late sends)"
            if sending_done.is_set():
                if not waiting:
                    return
                deadline = min(deadline, time.perf_counter() + RUN_TIMEOUT_S)
                if time.perf_counter() > deadline:
                    return
            await asyncio.sleep(COLLECT_EVERY_S)

    watcher = asyncio.create_task(collector())
    try:
        t0 = time.perf_counter() + 0.05  # every user's task is waiting before the first send
        await asyncio.gather(*(user(i, t, t0) for i, t in enumerate(tracked)))
        sending_done.set()
        await watcher
    finally:
        watcher.cancel()
    return sends


async def phase_latency(
    api: GoldenPathHTTP,
    ws_url: str,
    people: list[GoldenPathUser],
    rate: float,
    messages_each: int,
    warmup: int,
    progress: Progress,
    failures: Failures,
    cpu: CpuMeter,
) -> LatencyResult:
    """Warm-up, the service time of one user alone, then the open loop at ``rate`` messages/s."""
    tracked, errors = await open_sockets(ws_url, people)
    try:
        if errors:
            raise BenchError(f"phase 1a: {len(errors)} sockets did not open: {errors[0]}")
        if warmup:
            progress.begin("warm-up", len(tracked) * warmup)
            await asyncio.gather(*(serial_runs(t, warmup, failures, progress) for t in tracked))
        # The same runs with no one else on the server: the service time, without queueing.
        alone: list[float] = []
        progress.begin("phase 1a, one user alone", messages_each)
        await serial_runs(tracked[0], messages_each, failures, progress, alone)
        planned = len(tracked) * messages_each
        progress.begin(f"phase 1a, open loop at {rate:g} messages/s", planned)
        events_before = sum(len(t.sock.events()) for t in tracked)
        cpu.start()
        sends = await open_loop(tracked, rate, messages_each, progress)
        done = [s for s in sends if s.answer is not None and s.answer.get("type") == COMPLETED]
        cpu.stop(len(done))
        progress.end()
        received = sum(len(t.sock.events()) for t in tracked) - events_before
        for s in sends:
            if s.answer is None:
                failures.record(f"no answer to {s.request_id} within {RUN_TIMEOUT_S:.0f} s")
            elif s.answer.get("type") != COMPLETED:
                failures.record(f"run ended with {json.dumps(s.answer)}")
        delivery = await check_delivery(api, tracked)
        sent_at = [s.sent_at for s in sends]
        arrived = [s.arrived for s in done]
        return LatencyResult(
            users=len(tracked),
            rate=rate,
            planned=planned,
            alone_ms=alone,
            latencies_ms=[(s.arrived - s.sent_at) * 1000 for s in done],
            late_ms=[s.late_ms for s in sends],
            send_rate=rate_over(len(sends), min(sent_at, default=0), max(sent_at, default=0)),
            runs_per_s=rate_over(len(done), min(arrived, default=0), max(arrived, default=0)),
            events=received,
            delivery=delivery,
            cpu=cpu,
            sample_run=last_completed_run(tracked[0].sock),
        )
    finally:
        progress.end()
        await close_sockets(tracked)
