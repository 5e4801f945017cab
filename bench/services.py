"""Benchmark the embedded services: cold start, stop, and one worker's template clone.

Usage: ``python bench/services.py [--runs N]`` (default 7).

* cold start: from nothing (no data directory, no process) to both servers answering a
  real query: ``EmbeddedProvider().start()`` returns only after PostgreSQL answered
  ``SHOW server_version`` and Redis ``INFO``;
* stop: ``provider.stop()``, until both servers have exited and the temp dir is gone;
* clone: ``CREATE DATABASE x TEMPLATE t`` and ``DROP DATABASE x`` on a template that holds
  the project's migrations (what each pytest-xdist worker pays once per run).

Progress goes to stderr, the table to stdout. Every server started is stopped, also on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

# Run as a script, this file's folder is sys.path[0], and a sibling bench/golden_path.py would
# shadow the golden_path package: drop the folder before importing the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import asyncpg  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from golden_path.db.migrate import migrate_dsn  # noqa: E402
from golden_path.services.embedded import EmbeddedProvider  # noqa: E402
from golden_path.services.model import Services, dsn_with_database  # noqa: E402

TARGET_COLD_START_S = 1.0
TEMPLATE = "bench_template"
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C/SIGTERM while a stop runs; they are delivered (and interrupt) afterwards."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _check_answers(services: Services) -> None:
    """A real query on each server, outside the timing: the start really gave working servers."""
    conn = await asyncpg.connect(services.postgres_dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(services.redis_url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()


def bench_start_stop(runs: int) -> tuple[list[float], list[float], Services]:
    starts: list[float] = []
    stops: list[float] = []
    services: Services | None = None
    for run in range(1, runs + 1):
        provider = EmbeddedProvider()
        began = time.perf_counter()
        try:
            services = provider.start()  # stops what it started itself if interrupted
            starts.append(time.perf_counter() - began)
            asyncio.run(_check_answers(services))
        finally:
            with _signals_held():
                stop_began = time.perf_counter()
                provider.stop()
                stops.append(time.perf_counter() - stop_began)
        _progress(f"run {run}/{runs}: start {starts[-1]:.3f} s, stop {stops[-1]:.3f} s")
    assert services is not None
    return starts, stops, services


async def _clone_timings(admin_dsn: str, runs: int) -> tuple[float, list[float], list[float]]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        began = time.perf_counter()
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
        await migrate_dsn(dsn_with_database(admin_dsn, TEMPLATE))
        template_s = time.perf_counter() - began
        creates: list[float] = []
        drops: list[float] = []
        for run in range(1, runs + 1):
            clone = f"bench_clone_{run}"
            began = time.perf_counter()
            await conn.execute(f"CREATE DATABASE {clone} TEMPLATE {TEMPLATE}")
            creates.append(time.perf_counter() - began)
            began = time.perf_counter()
            await conn.execute(f"DROP DATABASE {clone}")
            drops.append(time.perf_counter() - began)
            _progress(f"clone {run}/{runs}: create {creates[-1]:.3f} s, drop {drops[-1]:.3f} s")
        return template_s, creates, drops
    finally:
        await conn.close()


def bench_clone(runs: int) -> tuple[float, list[float], list[float]]:
    provider = EmbeddedProvider()
    try:
        services = provider.start()
        return asyncio.run(_clone_timings(services.postgres_dsn, runs))
    finally:
        with _signals_held():
            provider.stop()


def _row(label: str, samples: Sequence[float]) -> str:
    median, low, high = statistics.median(samples), min(samples), max(samples)
    return f"{label:<44} {median:>8.3f} s {low:>8.3f} s {high:>8.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/services.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="samples per measurement (7)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)

    try:
        starts, stops, services = bench_start_stop(args.runs)
        template_s, creates, drops = bench_clone(args.runs)
    except KeyboardInterrupt:
        _progress("interrupted; every server started was stopped")
        return 130

    median_start = statistics.median(starts)
    print(
        f"golden-path embedded services: {args.runs} runs, PostgreSQL "
        f"{services.postgres_version}, Redis {services.redis_version}"
    )
    print(f"{'':<44} {'median':>10} {'min':>10} {'max':>10}")
    print(_row("cold start, both servers answering a query", starts))
    print(_row("stop, both exited and temp dir removed", stops))
    print(_row("worker clone: CREATE DATABASE … TEMPLATE", creates))
    print(_row("worker clone: DROP DATABASE", drops))
    print(f"{'schema template: create + migrate (once)':<44} {template_s:>8.3f} s")
    verdict = "met" if median_start <= TARGET_COLD_START_S else "MISSED"
    print(
        f"target ≤ {TARGET_COLD_START_S:.1f} s cold start for both servers: {verdict} "
        f"(median {median_start:.3f} s, worst {max(starts):.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
