"""Benchmark the services providers: cold start, stop, and one worker's template clone.

Usage: ``python -m bench.services [--runs N] [--peer-runs M]`` (default 7 and 5). With a
container engine
(``bash scripts/container_engine.sh run -- .venv/bin/python -m bench.services``) the docker
provider is measured in the same run, each of its samples right after an embedded one,
and so is its floor: the same two containers run by the docker SDK alone, polled by a
real query every 20 ms (what the provider adds: testcontainers, labels, the orphan sweep).

* cold start: from nothing (no data directory, no process, no container) to both servers
  answering a real query: ``start()`` returns only after PostgreSQL answered
  ``SHOW server_version`` and Redis ``INFO``;
* stop: ``provider.stop()``, until both servers have exited and the temp dir is gone (for
  docker: both containers removed);
* clone: ``CREATE DATABASE x TEMPLATE t`` and ``DROP DATABASE x`` on a template that holds
  the project's migrations (what each pytest-xdist worker pays once per run);
* the harness beside pytest-postgresql / pytest-redis (``bench/harness_peers.py``): tiny
  projects run by real ``pytest`` subprocesses on the same PostgreSQL and Redis binaries:
  the first test's start, a clean database, transaction and Redis per test, with floors.

Progress goes to stderr, the table to stdout. Every server started is stopped, also on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from golden_path.db.migrate import migrate_dsn
from golden_path.services.docker import (
    DEFAULT_POSTGRES_IMAGE,
    DEFAULT_REDIS_IMAGE,
    POSTGRES_DATA,
    POSTGRES_IMAGE_ENV,
    POSTGRES_SETTINGS,
    REDIS_IMAGE_ENV,
    DockerProvider,
    engine_api_version,
    engine_problem,
)
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.model import Provider, Services, dsn_with_database

TARGET_COLD_START_S = 0.6  # issue 11: both servers up in 0.6 s on this 2-core machine
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


@dataclass
class Samples:
    starts: list[float] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)
    services: Services | None = None


def _start_stop_once(provider: Provider, samples: Samples) -> None:
    began = time.perf_counter()
    try:
        samples.services = provider.start()  # stops what it started itself if interrupted
        samples.starts.append(time.perf_counter() - began)
        asyncio.run(_check_answers(samples.services))
    finally:
        with _signals_held():
            stop_began = time.perf_counter()
            provider.stop()
            samples.stops.append(time.perf_counter() - stop_began)


class BareContainers:
    """The floor under the docker provider: the same two containers run with the docker SDK
    alone (no testcontainers, labels or sweep), polled by a real query every 20 ms."""

    name = "bare containers"

    def __init__(self) -> None:
        import docker

        self._client = docker.from_env(version=engine_api_version(), timeout=60)
        self._containers: list[Any] = []

    def _run(self, image: str, command: list[str], port: int, **kwargs: Any) -> int:
        container = self._client.containers.run(
            image, command, detach=True, ports={f"{port}/tcp": None}, **kwargs
        )
        self._containers.append(container)
        container.reload()
        return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])

    def start(self) -> Services:
        settings = [a for k, v in POSTGRES_SETTINGS.items() for a in ("-c", f"{k}={v}")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            pg = pool.submit(
                self._run,
                os.environ.get(POSTGRES_IMAGE_ENV, DEFAULT_POSTGRES_IMAGE),
                settings,
                5432,
                environment={"POSTGRES_PASSWORD": "bench"},
                tmpfs={POSTGRES_DATA: ""},
            )
            rd = pool.submit(
                self._run, os.environ.get(REDIS_IMAGE_ENV, DEFAULT_REDIS_IMAGE), [], 6379
            )
            services = Services(
                postgres_dsn=f"postgresql://postgres:bench@127.0.0.1:{pg.result()}/postgres",
                redis_url=f"redis://127.0.0.1:{rd.result()}/0",
                provider=self.name,
            )
        asyncio.run(_until_answering(services))
        return services

    def stop(self) -> None:
        containers, self._containers = self._containers, []
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda c: c.remove(force=True, v=True), containers))
        self._client.close()


async def _until_answering(services: Services, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await _check_answers(services)
            return
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, aioredis.RedisError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


def _provider(name: str) -> Provider:
    if name == "embedded":
        return EmbeddedProvider()
    return DockerProvider() if name == "docker" else BareContainers()


def bench_start_stop(runs: int, with_docker: bool) -> dict[str, Samples]:
    """Start and stop each provider ``runs`` times, interleaved: all see the same load."""
    results = {"embedded": Samples()}
    if with_docker:
        results.update({"docker": Samples(), "bare": Samples()})
    for run in range(1, runs + 1):
        for name, samples in results.items():
            _start_stop_once(_provider(name), samples)
            _progress(
                f"run {run}/{runs} {name}: start {samples.starts[-1]:.3f} s, "
                f"stop {samples.stops[-1]:.3f} s"
            )
    return results


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
    parser = argparse.ArgumentParser(prog="python -m bench.services", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="samples per measurement (7)")
    parser.add_argument(
        "--peer-runs",
        type=int,
        default=5,
        help="pytest runs per tool for the harness beside pytest-postgresql / pytest-redis "
        "(bench/harness_peers.py; 5, 0 to skip)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)

    docker_problem = engine_problem()
    try:
        results = bench_start_stop(args.runs, with_docker=docker_problem is None)
        template_s, creates, drops = bench_clone(args.runs)
        peers = _harness_peers(args.peer_runs)
    except KeyboardInterrupt:
        _progress("interrupted; every server started was stopped")
        return 130

    embedded = results["embedded"]
    starts = embedded.starts
    median_start = statistics.median(starts)
    for name, samples in results.items():
        assert samples.services is not None
        if name == "bare":
            continue
        print(
            f"golden-path {name} services: {args.runs} runs, PostgreSQL "
            f"{samples.services.postgres_version}, Redis {samples.services.redis_version}"
        )
    if docker_problem is not None:
        print(
            f"docker provider: not measured ({docker_problem}); with podman: "
            "bash scripts/container_engine.sh run -- .venv/bin/python -m bench.services"
        )
    print(f"{'':<44} {'median':>10} {'min':>10} {'max':>10}")
    print(_row("cold start, both servers answering a query", starts))
    print(_row("stop, both exited and temp dir removed", embedded.stops))
    if "docker" in results:
        print(_row("docker: cold start, both answering a query", results["docker"].starts))
        print(_row("docker: stop, both containers removed", results["docker"].stops))
        print(_row("floor: same containers, docker SDK alone", results["bare"].starts))
        print(_row("floor: their removal", results["bare"].stops))
    print(_row("worker clone: CREATE DATABASE … TEMPLATE", creates))
    print(_row("worker clone: DROP DATABASE", drops))
    print(f"{'schema template: create + migrate (once)':<44} {template_s:>8.3f} s")
    verdict = "met" if median_start <= TARGET_COLD_START_S else "MISSED"
    print(
        f"target ≤ {TARGET_COLD_START_S:.1f} s cold start for both servers: {verdict} "
        f"(median {median_start:.3f} s, worst {max(starts):.3f} s)"
    )
    if peers:
        print()
        print("\n".join(peers))
    return 0


def _harness_peers(runs: int) -> list[str]:
    """The harness beside pytest-postgresql and pytest-redis (bench/harness_peers.py)."""
    if runs < 1:
        return []
    from bench import harness_peers  # its peers' imports only when they are compared

    results = harness_peers.measure(runs)
    return [harness_peers.heading(runs), *harness_peers.table(results)]


if __name__ == "__main__":
    sys.exit(main())
