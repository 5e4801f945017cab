"""The entry point: options, the phases in order against one server, the floor, the table.

Exit status: 0, 1 (a correctness count is not 0), 2 (the benchmark could not run), 130
(interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import tempfile
from pathlib import Path

import bench.load
from bench.load import processes
from bench.load.abuse import phase_abuse
from bench.load.connections import phase_connections
from bench.load.cpu import CpuMeter
from bench.load.echo import floor_echo
from bench.load.latency import phase_latency
from bench.load.progress import Progress, say
from bench.load.render import render
from bench.load.report import Report
from bench.load.saturation import phase_saturation
from bench.load.server import code_version, start_server, stop_server
from bench.load.settings import ABUSE_LOAD, PHASE_TIMEOUT_S, TARGET_RATE, TIER
from bench.load.sockets import make_users
from bench.load.throughput import phase_throughput
from bench.load.writes import floor_writes
from golden_path.client import ApiError, GoldenPathHTTP
from golden_path.protocol import websocket_url
from golden_path.server.runner import ServeProcess


async def open_loops(
    args: argparse.Namespace, report: Report, server_pid: int | None, log_dir: Path, phase: int
) -> None:
    """Phase 1a (``phase`` 1), or phases 3 and 4 (``phase`` 3), against ``report.url``: the
    phases that need the generator in this process (see ``bench.load``)."""
    progress = Progress()
    failures = report.failures
    ws_url = websocket_url(report.url)
    async with GoldenPathHTTP(report.url) as api:
        await api.request("GET", "/readyz")
        people = []
        if phase == 1 or args.abuse:
            say(f"creating {args.users + 1} {TIER.value} users")
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                people = await make_users(api, args.users + 1)
        if phase == 1:
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                report.latency = await phase_latency(
                    api,
                    ws_url,
                    people[: args.users],
                    args.rate,
                    args.messages,
                    args.warmup,
                    progress,
                    failures,
                    CpuMeter(server_pid),
                )
            return
        if args.connections:
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                report.connections = await phase_connections(
                    api, ws_url, args.connections, progress, failures, CpuMeter(server_pid)
                )
        if args.abuse:
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                report.abuse = await phase_abuse(
                    api,
                    report.url,
                    ws_url,
                    people[: args.users],
                    people[-1],  # not in the loop: the attacker's own account, with a history
                    abuse_rate(args, report),
                    args.messages,
                    progress,
                    failures,
                    server_pid,
                    log_dir,
                )


def measure(
    args: argparse.Namespace, report: Report, server_pid: int | None, log_dir: Path
) -> None:
    """Phases 1a to 4 against ``report.url``: 1b and 2 on Locust, the others here."""
    asyncio.run(open_loops(args, report, server_pid, log_dir, 1))
    report.saturation = phase_saturation(
        report.url, args.users, log_dir / "saturation", report.failures, server_pid
    )
    report.throughput = phase_throughput(
        report.url, 2 * args.users, log_dir / "throughput", report.failures, server_pid
    )
    if args.connections or args.abuse:
        asyncio.run(open_loops(args, report, server_pid, log_dir, 3))


def abuse_rate(args: argparse.Namespace, report: Report) -> float:
    """``--abuse-rate``, else 40% of the max sustained runs/s of phase 2, else ``--rate``."""
    if args.abuse_rate is not None:
        return float(args.abuse_rate)
    best = report.throughput.best if report.throughput is not None else None
    if best is None or not best.runs_per_s:
        return float(args.rate)
    return round(best.runs_per_s * ABUSE_LOAD, 1)


def run(args: argparse.Namespace, log_dir: Path) -> Report:
    """The phases against the server (started here unless ``--url``), then the floor."""
    report = Report(url=args.url or "", started_server=args.url is None)
    server: ServeProcess | None = None
    try:
        if args.url is None:
            report.code = code_version()
            server = start_server(log_dir)
            report.url = server.base_url
        measure(args, report, server.pid if server is not None else None, log_dir)
    finally:
        if server is not None:
            say("stopping golden-path serve")
            stop_server(server)
    say("floor: WebSocket echo")
    report.echo_ms = floor_echo(log_dir)
    if report.latency is not None and report.latency.sample_run:
        say("floor: one run's PostgreSQL writes, on an embedded PostgreSQL of our own")
        report.writes = floor_writes(report.latency.sample_run)
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    doc = bench.load.__doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=doc.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running server (default: start one)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users in phase 1 (20)")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RATE,
        help=f"messages per second in total in phase 1a, the open loop ({TARGET_RATE:g}); "
        f"each user sends every users/rate s, and may have up to "
        f"{TIER.limits.concurrent_runs} runs at once",
    )
    parser.add_argument(
        "--messages", type=int, default=25, help="messages per user in phases 1a and 4 (25)"
    )
    parser.add_argument("--connections", type=int, default=500, help="sockets in phase 3 (500)")
    parser.add_argument(
        "--no-abuse",
        dest="abuse",
        action="store_false",
        help="skip phase 4: an open loop plain, then beside a slow reader and a login flood",
    )
    parser.add_argument(
        "--abuse-rate",
        type=float,
        default=None,
        help="messages per second in phase 4 (default: 40%% of the max sustained of phase 2)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="warm-up messages per user (3)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.messages < 1 or args.warmup < 0 or args.connections < 0:
        parser.error("--users and --messages must be at least 1, the others at least 0")
    for name in ("rate", "abuse_rate"):
        value = getattr(args, name)
        if value is not None and (not value > 0 or math.isinf(value)):
            parser.error(f"--{name.replace('_', '-')} must be a positive number of messages/s")
    if args.url is not None:
        args.url = args.url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    processes.interrupt_on_stop_signals()
    processes.raise_open_files(2 * args.connections + 1024)
    log_dir = Path(tempfile.mkdtemp(prefix="golden-path-bench-"))
    try:
        report = run(args, log_dir)
    except KeyboardInterrupt:
        say("\ninterrupted; every process started was stopped")
        return 130
    except (ApiError, TimeoutError, OSError, RuntimeError) as exc:
        say(f"\nthe benchmark could not run: {type(exc).__name__}: {exc}\nlogs: {log_dir}")
        return 2
    print(render(report, args), flush=True)
    if not report.correct():
        say(f"logs and Locust's reports kept: {log_dir}")
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0
