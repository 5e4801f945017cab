"""Phase 2, throughput: the most runs per second one server process sustains.

2N users, one socket each, with 2N/4, 2N/2, 2N and 4N runs in flight (each in-flight
slot sends its next message as soon as its run ends), ~2.5 s a step; the best step's
completed runs per second is the sustained maximum.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.load.cpu import CpuMeter
from bench.load.delivery import Delivery, check_delivery
from bench.load.progress import Progress
from bench.load.runs import Failures, one_run
from bench.load.settings import RUN_TIMEOUT_S, THROUGHPUT_RAMP_S, THROUGHPUT_SECONDS, BenchError
from bench.load.sockets import Tracked, close_sockets, open_sockets
from bench.load.stats import pct
from golden_path.client import GoldenPathHTTP
from golden_path.testing.identity.users import GoldenPathUser


@dataclass
class Step:
    """One level of runs in flight: the runs completed in its window, their latency, its CPU."""

    in_flight: int
    runs: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu: CpuMeter

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0


@dataclass
class ThroughputResult:
    """Every level of runs in flight; the best is the sustained maximum."""

    users: int
    steps: list[Step]
    delivery: Delivery

    @property
    def best(self) -> Step | None:
        return max(self.steps, key=lambda s: s.runs_per_s, default=None)


async def _slot(
    t: Tracked,
    stop_at: float,
    records: list[tuple[float, float]],
    failures: Failures,
    progress: Progress,
) -> None:
    """One run in flight on ``t``: the next message as soon as a run ends, until ``stop_at``."""
    while time.perf_counter() < stop_at:
        outcome = await one_run(t, failures)
        progress.tick()
        if outcome is not None:
            records.append(outcome)


async def phase_throughput(
    api: GoldenPathHTTP,
    ws_url: str,
    people: list[GoldenPathUser],
    progress: Progress,
    failures: Failures,
    server_pid: int | None,
) -> ThroughputResult:
    tracked, errors = await open_sockets(ws_url, people)
    try:
        if errors:
            raise BenchError(f"phase 2: {len(errors)} sockets did not open: {errors[0]}")
        count = len(tracked)
        levels = sorted({max(1, count // 4), max(1, count // 2), count, 2 * count})
        step_s = THROUGHPUT_SECONDS / len(levels)
        progress.begin("phase 2", None)
        steps: list[Step] = []
        for number, level in enumerate(levels, start=1):
            records: list[tuple[float, float]] = []
            began = time.perf_counter()
            stop_at = began + step_s
            progress.detail = f"(step {number}/{len(levels)}: {level} runs in flight)"
            cpu = CpuMeter(server_pid)
            cpu.start()
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        _slot(tracked[i % count], stop_at, records, failures, progress)
                        for i in range(level)
                    )
                ),
                step_s + RUN_TIMEOUT_S * 2,
            )
            cpu.stop(len(records))
            window_start = began + THROUGHPUT_RAMP_S
            counted = [lat for arrived, lat in records if window_start <= arrived <= stop_at]
            steps.append(
                Step(
                    level,
                    len(counted),
                    stop_at - window_start,
                    pct(counted, 50),
                    pct(counted, 99),
                    cpu,
                )
            )
        progress.end()
        delivery = await check_delivery(api, tracked)
        return ThroughputResult(count, steps, delivery)
    finally:
        progress.end()
        await close_sockets(tracked)
