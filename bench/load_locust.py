"""The same load from Locust's users (``golden-path load``) and from ``bench.load``'s own
generator, one after the other, against the same server: runs/s and p50 side by side, and
each generator's CPU beside the server's.

Usage, from the repository's root::

    python -m bench.load_locust [--users N=20] [--seconds S=20] [--workers W=2]

It starts ``golden-path serve`` once (``bench.load.server``: embedded PostgreSQL and
Redis, every default setting, with 127.0.0.0/8 exempt from the signup and login throttles
so both generators' users sign up from loopback), then:

* ``generator``: ``bench.load``'s asyncio generator (one process), N users signed up
  first, each with one socket and one run in flight (the next message as soon as its run
  ends) for S seconds;
* ``locust``: ``golden-path load --users N --spawn-rate N --run-time Ss --workers W
  --resume-share 0`` (a master and W worker processes), each user likewise in a closed
  loop, its runs checked by the contract checker.

A run's latency is from its message to its completed event in both. runs/s is the
generator's completed runs over its S seconds, and Locust's own rate for the run entry
(requests over the span from its first to its last). CPU is from /proc and getrusage:
the server (and its PostgreSQL) per phase, and the generator: this process for the
asyncio one, the ``golden-path load`` command and every process it started for Locust
(their CPU over the command's whole life: its preflight, Locust's start and the users'
signups included). 100% is one core; "CPU per run" divides by the runs completed, which
stays comparable when the phases differ in length. A saturated generator shows here as a
generator near 100% per process, not as a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.load.cpu import GENERATOR, SERVER, SERVER_KERNEL, CpuMeter
from bench.load.progress import Progress, say
from bench.load.runs import Failures, one_run
from bench.load.server import stop_server
from bench.load.settings import READY_TIMEOUT_S, ROOT
from bench.load.sockets import Tracked, close_sockets, make_users, open_sockets
from bench.load.stats import pct
from golden_path.client import GoldenPathHTTP
from golden_path.server.config import Settings
from golden_path.server.runner import ServeProcess

EXEMPT = ("127.0.0.0/8",)


@dataclass
class Phase:
    """One generator's figures: the runs it completed, their p50, and the CPU it took."""

    name: str
    runs: int
    runs_per_s: float
    p50_ms: float
    failures: int
    wall_s: float
    generator_cpu_s: float
    server_cpu_s: float
    postgres_cpu_s: float
    machine_cpu: float = math.nan  # every process of the machine, 100% = one core
    steady_runs_per_s: float | None = None  # Locust's: from every user signed in to the stop
    steady_generator_cpu: float | None = None

    def per_run_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.runs if self.runs else math.nan


def start(log_dir: Path) -> ServeProcess:
    server = ServeProcess(
        Settings(throttle_exempt=EXEMPT), log_path=log_dir / "serve.log", cwd=ROOT
    )
    say("starting golden-path serve on embedded services")
    try:
        server.start(READY_TIMEOUT_S)
    except BaseException:
        stop_server(server)
        raise
    say(f"golden-path serve (pid {server.pid}) listens on {server.base_url}")
    return server


def _machine(meter: CpuMeter) -> float:
    return sum(v for k, v in meter.shares.items() if k != SERVER_KERNEL)


def _cpu_seconds(meter: CpuMeter, name: str) -> float:
    return meter.shares.get(name, 0.0) / 100 * meter.wall


async def generator_phase(server: ServeProcess, users: int, seconds: float) -> Phase:
    async with GoldenPathHTTP(server.base_url) as api:
        people = await make_users(api, users)
    tracked, errors = await open_sockets(server.ws_url, people)
    if errors:
        raise RuntimeError(f"{len(errors)} sockets did not open: {errors[0]}")
    latencies: list[float] = []
    failures = Failures()
    progress = Progress()

    async def slot(t: Tracked, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            outcome = await one_run(t, failures)
            progress.tick()
            if outcome is not None:
                latencies.append(outcome[1])

    meter = CpuMeter(server.pid)
    progress.begin("generator", None)
    meter.start()
    began = time.perf_counter()
    try:
        await asyncio.gather(*(slot(t, began + seconds) for t in tracked))
    finally:
        wall = time.perf_counter() - began
        meter.stop(len(latencies))
        progress.end()
        await close_sockets(tracked)
    return Phase(
        "bench.load generator (1 process)",
        len(latencies),
        len(latencies) / wall,
        pct(latencies, 50),
        failures.count,
        wall,
        _cpu_seconds(meter, GENERATOR),
        _cpu_seconds(meter, SERVER),
        _cpu_seconds(meter, "postgres"),
        _machine(meter),
    )


def locust_phase(
    server: ServeProcess, users: int, seconds: float, workers: int, out: Path
) -> Phase:
    command = [
        str(Path(sys.executable).with_name("golden-path")), "load",
        "--url", server.base_url, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{math.ceil(seconds)}s", "--workers", str(workers),
        "--resume-share", "0", "--max-fail-ratio", "1", "--out", str(out),
    ]  # fmt: skip
    meter = CpuMeter(server.pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    meter.start()
    began = time.perf_counter()
    subprocess.run(command, check=False, cwd=ROOT)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    meter.stop(int(summary["completed"]))
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Phase(
        f"golden-path load (Locust, {workers} workers)",
        int(summary["completed"]),
        float(summary["runs_per_s"]),
        float(summary["p50_ms"] or math.nan),
        int(summary["failures"]) + sum(summary["violations"].values()),
        wall,
        used,
        _cpu_seconds(meter, SERVER),
        _cpu_seconds(meter, "postgres"),
        _machine(meter),
        summary.get("steady_runs_per_s"),
        summary.get("steady_workers_cpu"),
    )


def render(phases: list[Phase], users: int, seconds: float) -> str:
    lines = [
        f"The same load: {users} users, one run in flight each, {seconds:g} s, one server.",
        "",
        f"{'generator':<36} {'runs':>5} {'runs/s':>7} {'steady':>7} {'p50 ms':>7} {'fails':>5}"
        f" {'gen CPU':>8} {'server CPU':>10} {'machine':>8} {'gen ms/run':>10}"
        f" {'server ms/run':>13}",
    ]
    for p in phases:
        steady = p.steady_runs_per_s if p.steady_runs_per_s is not None else p.runs_per_s
        gen = p.steady_generator_cpu
        gen_cpu = 100 * p.generator_cpu_s / p.wall_s if gen is None else gen
        server_cpu = 100 * p.server_cpu_s / p.wall_s
        lines.append(
            f"{p.name:<36} {p.runs:>5} {p.runs_per_s:>7.1f} {steady:>7.1f} {p.p50_ms:>7.1f}"
            f" {p.failures:>5} {gen_cpu:>7.0f}% {server_cpu:>9.0f}% {p.machine_cpu:>7.0f}%"
            f" {p.per_run_ms(p.generator_cpu_s):>10.2f} {p.per_run_ms(p.server_cpu_s):>13.2f}"
        )
    lines += [
        "",
        "runs/s: over the whole phase (Locust's: from its start, the users' signups included);",
        "steady: the generator's same figure, and Locust's from every user signed in to the stop.",
        "gen CPU: the asyncio generator over its phase; Locust's workers over the steady part",
        "(100% = one core). gen ms/run: every CPU second of the generator (for Locust: the",
        "command, its master and workers, start-up included) over the runs it completed.",
        "machine: every process of the machine over the phase (200% = both cores busy).",
    ]
    if len(phases) >= 2 and phases[0].runs_per_s and phases[0].p50_ms:
        a, b = phases[:2]
        b_steady = b.steady_runs_per_s or b.runs_per_s
        lines += [
            "",
            f"Locust / generator: steady runs/s {b_steady / a.runs_per_s:.2f}x, "
            f"p50 {b.p50_ms / a.p50_ms:.2f}x, generator CPU per run "
            f"{b.per_run_ms(b.generator_cpu_s) / a.per_run_ms(a.generator_cpu_s):.1f}x",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_locust", description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gp-load-locust-") as tmp:
        server = start(Path(tmp))
        try:
            say(f"phase 1: bench.load's generator, {args.users} users for {args.seconds:g} s")
            first = asyncio.run(generator_phase(server, args.users, args.seconds))
            say(f"phase 2: golden-path load, {args.users} users for {args.seconds:g} s")
            second = locust_phase(server, args.users, args.seconds, args.workers, Path(tmp) / "out")
            say("phase 3: bench.load's generator again (what changed meanwhile)")
            third = asyncio.run(generator_phase(server, args.users, args.seconds))
            third.name = "bench.load generator, again"
        except KeyboardInterrupt:
            return 130
        finally:
            stop_server(server)
    print(render([first, second, third], args.users, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
