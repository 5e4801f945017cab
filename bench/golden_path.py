"""Benchmark the golden path end to end: run latency, throughput, held connections, and the floor.

Usage::

    python bench/golden_path.py [--url http://host:port] [--users N=20] [--messages M=25]
                                [--connections C=500] [--warmup W=3]

Without ``--url`` it starts ``golden-path serve`` as a separate process (its own GIL,
its own embedded PostgreSQL and Redis, ``GOLDEN_PATH_PASSWORD_HASH=fast``) on a free
port of 127.0.0.1, and stops it with SIGTERM at the end, whatever happens.

* phase 1, latency: N enterprise users, one socket each; after W warm-up messages per
  user, every user sends M messages, one at a time (send ``user_message``, wait for its
  ``agent_completed``, send the next). A run's latency is from sending the message to
  receiving ``agent_completed`` (the socket's own receive timestamp). The same M runs by
  one user alone, just before, give the service time without queueing; with no pause
  between messages, the mean latency at N users is N / throughput (Little's law).
* phase 2, throughput: 2N users, one socket each, with 2N/4, 2N/2, 2N and 4N runs in
  flight (each in-flight slot sends its next message as soon as its run ends), ~2.5 s a
  step; the best step's completed runs per second is the sustained maximum.
* phase 3, held connections: C sockets over ceil(C/50) users (the enterprise plan allows
  50 each), all open at once; every 10th sends one message, and every socket of those
  users must receive every event of its user.
* correctness, after every phase: ``lost`` (an event the server persisted for the user,
  read back with ``GET /events``, that one of the user's sockets never received),
  ``duplicated`` (a ``seq`` received twice on one socket), ``misdelivered`` (an event of
  another user), ``failed runs`` (an error frame, ``agent_error`` or no answer). All must
  be 0: otherwise the exit status is 1.
* floor: (a) a bare WebSocket echo on the same stack (Starlette + uvicorn with the
  settings of ``golden_path.server.runner.uvicorn_config``, in its own process): p50/p99
  of 500 round trips of a ~1 KB JSON text; (b) the PostgreSQL writes one run makes
  (admission, one transaction per non-terminal event, the final transaction, each
  scoped with ``set_config``), issued directly with asyncpg through the repository
  functions of ``golden_path.db`` on an embedded PostgreSQL of its own, on one
  connection: median of 200 (also timed borrowing from the pool for each transaction, as
  the server does). floor = echo p50 + writes median.

Each phase also reports the CPU used meanwhile by the server process (and how much of it
in the kernel), its PostgreSQL and Redis, this load generator and the rest of the machine
(read from /proc; 100% is one core), so a figure taken on a busy machine shows as such,
and the server's CPU per run (robust to a busy machine: 1000 / it is the most runs/s one
core can give).

Progress goes to stderr (one updating line), the table to stdout. Targets: p50 ≤ 10 ms
and p99 ≤ 50 ms at 20 concurrent users, ≥ 250 runs/s from one server process, 500 open
connections held with nothing lost; a missed target is reported, not an error.
Exit status: 0, 1 (a correctness count is not 0), 2 (the benchmark could not run), 130
(interrupted). Every process started is stopped, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file (golden_path.py)
# would shadow the golden_path package it measures.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from websockets.asyncio.client import connect

from golden_path.client import (
    ApiError,
    ConnectionRefused,
    GoldenPathHTTP,
    GoldenPathSocket,
    WaitTimeout,
)
from golden_path.db import events, messages, runs, threads, usage, users
from golden_path.db.pool import Conn
from golden_path.db.scope import Database, scoped
from golden_path.ids import EventID, MessageID, RequestID, RunID, ThreadID, UserID
from golden_path.protocol import TERMINAL_EVENTS, EventType, RunStatus
from golden_path.server.clock import rfc3339, start_of_utc_day, utcnow
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.processes import ServerProcess, free_port, launch
from golden_path.testing.users import GoldenPathUser, create_user
from golden_path.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
TIER = Tier.ENTERPRISE
CONTENT = "How much did we spend on AI this month?"

TARGET_USERS = 20
TARGET_P50_MS = 10.0
TARGET_P99_MS = 50.0
TARGET_RUNS_PER_S = 250.0
TARGET_CONNECTIONS = 500

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 15.0
CONNECT_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 15.0
PHASE_TIMEOUT_S = 600.0
THROUGHPUT_SECONDS = 10.0
THROUGHPUT_RAMP_S = 0.3  # the first moments of a step, while the pipeline fills, are not counted
OPEN_CONCURRENCY = 32
USER_CONCURRENCY = 8
SAMPLE_EVERY = 10
MAX_EVENT_PAGES = 1000
ECHO_ROUND_TRIPS = 500
ECHO_WARMUP = 50
ECHO_BYTES = 1024
WRITES_RUNS = 200
WRITES_WARMUP = 20

_TERMINAL = frozenset(e.value for e in TERMINAL_EVENTS)
_COMPLETED = EventType.AGENT_COMPLETED.value
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_SERVER = "server (python)"
_SERVER_KERNEL = "server, in the kernel"


class BenchError(RuntimeError):
    """The benchmark could not run (not a measured failure of the server)."""


# -- processes and signals ------------------------------------------------------------------


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


def _stop(process: ServerProcess) -> None:
    with _signals_held():
        process.stop(STOP_TIMEOUT_S)
    if process.popen.poll() is None:
        _say(f"{process.name} (pid {process.pid}) did not exit; see {process.log_path}")


def _raise_open_files(wanted: int) -> None:
    """Let this process (and the servers it starts) hold ``wanted`` descriptors, if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < wanted:
        _say(f"open-files limit is {ceiling} (hard limit), {wanted} wanted")


def code_version() -> str:
    """The commit of the code a started server runs, and whether golden_path/ has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "golden_path"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + uncommitted changes in golden_path/" if changes else head


def start_server(log_dir: Path) -> tuple[ServerProcess, str]:
    """``golden-path serve`` on a free port, on embedded services; its URL once it is ready."""
    port = free_port()
    env = dict(os.environ)
    env["GOLDEN_PATH_PASSWORD_HASH"] = "fast"  # noqa: S105 - a hashing profile, not a secret
    for name in ("GOLDEN_PATH_POSTGRES_DSN", "GOLDEN_PATH_REDIS_URL"):
        env.pop(name, None)
    server = launch(
        "golden-path serve",
        [sys.executable, "-m", "golden_path.cli", "serve", "--port", str(port)],
        log_path=log_dir / "serve.log",
        ready_pattern=r"Uvicorn running on",
        stop_signal=signal.SIGTERM,
        env=env,
        cwd=ROOT,
    )
    return server, f"http://127.0.0.1:{port}"


def serve_echo(port: int) -> None:
    """The floor's server: one echo WebSocket route, uvicorn configured as the real server."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from golden_path.server.config import Settings
    from golden_path.server.runner import uvicorn_config

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    # The same options as `golden-path serve` (uvicorn_config, log level info); only the app
    # differs. The golden-path app it builds is never started.
    config = uvicorn_config(Settings().validated(), host="127.0.0.1", port=port, log_level="info")
    config.app = Starlette(routes=[WebSocketRoute("/echo", echo)])
    uvicorn.Server(config).run()


# -- CPU accounting from /proc ---------------------------------------------------------------


def _cpu_by_name(root_pid: int) -> dict[str, float]:
    """CPU seconds used so far by ``root_pid`` and its descendants, summed by command name."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, tuple[str, float]] = {}
    kernel = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        stats[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
        if int(entry) == root_pid:
            kernel = int(fields[12]) / ticks
    family = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    totals: dict[str, float] = defaultdict(float)
    for pid in family:
        if pid in stats:
            name, seconds = stats[pid]
            label = _SERVER if pid == root_pid else name.split(":")[0]
            totals[label] += seconds
    totals["load generator (this process)"] = time.process_time()
    totals[_SERVER_KERNEL] = kernel
    return dict(totals)


def _machine_busy() -> float:
    """CPU seconds every process of the machine has used so far (all cores, from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU used per process kind over a phase, as a share of one core (100% = one core)."""

    server_pid: int | None
    began_wall: float = 0.0
    wall: float = 0.0
    runs: int = 0
    began: dict[str, float] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.began_wall = time.perf_counter()
        self.began = self._sample()

    def stop(self, runs: int) -> None:
        """End the measurement; ``runs`` completed meanwhile (for the CPU cost of one run)."""
        wall = time.perf_counter() - self.began_wall
        now = self._sample()
        self.wall, self.runs = wall, runs
        self.shares = {
            name: 100 * (seconds - self.began.get(name, 0.0)) / wall
            for name, seconds in now.items()
            if wall > 0
        }

    def _sample(self) -> dict[str, float]:
        if self.server_pid is None:
            ours = {"load generator (this process)": time.process_time()}
        else:
            ours = _cpu_by_name(self.server_pid)
        # Whatever else runs on the machine meanwhile (it competes for the same cores).
        mine = sum(v for k, v in ours.items() if k != _SERVER_KERNEL)
        others = "other processes" if self.server_pid else "the server and other processes"
        ours[others] = _machine_busy() - mine
        return ours

    def per_run_ms(self, name: str) -> float:
        """CPU milliseconds ``name`` spent per completed run (NaN if unknown)."""
        if name not in self.shares or not self.runs:
            return math.nan
        return self.shares[name] / 100 * self.wall * 1000 / self.runs

    def cost(self) -> str:
        """CPU per run of the server and its PostgreSQL: robust to a busy machine."""
        server, postgres = self.per_run_ms(_SERVER), self.per_run_ms("postgres")
        if math.isnan(server):
            return ""
        return (
            f"CPU per run: server {server:.2f} ms (so at most {1000 / server:.0f} runs/s "
            f"on one core), postgres {postgres:.2f} ms"
        )

    def summary(self) -> str:
        kernel = self.shares.get(_SERVER_KERNEL)
        ordered = sorted(self.shares.items(), key=lambda kv: -kv[1])
        parts = []
        for name, share in ordered:
            if name == _SERVER_KERNEL or share < 0.5:
                continue
            inside = f" (kernel {kernel:.0f}%)" if name == _SERVER and kernel is not None else ""
            parts.append(f"{name} {share:.0f}%{inside}")
        return ", ".join(parts)


# -- progress -------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Progress:
    """One updating line on stderr: runs completed (of how many) and the current rate."""

    def __init__(self) -> None:
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self.detail = ""
        self._samples: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._tty = sys.stderr.isatty()
        self._width = 0

    def begin(self, label: str, total: int | None) -> None:
        self.end()
        self.label, self.total, self.done, self.detail = label, total, 0, ""
        self._samples.clear()
        self._task = asyncio.create_task(self._show())

    def tick(self) -> None:
        self.done += 1

    def end(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        self._draw()
        sys.stderr.write("\n")
        sys.stderr.flush()
        self._width = 0

    def _rate(self) -> float:
        now = time.perf_counter()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and self._samples[1][0] <= now - 1.0:
            self._samples.popleft()  # keep the newest sample at least a second old
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    def _draw(self) -> None:
        total = f"/{self.total}" if self.total is not None else ""
        text = f"{self.label}: {self.done}{total} runs, {self._rate():.0f} runs/s {self.detail}"
        text = text.rstrip()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()

    async def _show(self) -> None:
        interval = 0.25 if self._tty else 2.0
        while True:
            self._draw()
            await asyncio.sleep(interval)


# -- sockets, runs and delivery checks ------------------------------------------------------


@dataclass
class Tracked:
    """An open socket of ``user``; ``after_seq`` is the user's ``last_seq`` when it connected."""

    user: GoldenPathUser
    sock: GoldenPathSocket
    after_seq: int


@dataclass
class Failures:
    count: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, text: str) -> None:
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(" ".join(text.split())[:300])


@dataclass
class Delivery:
    sockets: int = 0
    expected: int = 0
    lost: int = 0
    duplicated: int = 0
    misdelivered: int = 0

    def add(self, other: Delivery) -> None:
        self.sockets += other.sockets
        self.expected += other.expected
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.misdelivered += other.misdelivered


def ws_url_of(url: str) -> str:
    return "ws" + url.removeprefix("http") + "/ws"


async def make_users(api: GoldenPathHTTP, count: int) -> list[GoldenPathUser]:
    gate = asyncio.Semaphore(USER_CONCURRENCY)

    async def one() -> GoldenPathUser:
        async with gate:
            return await create_user(api, TIER)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def open_sockets(
    ws_url: str, owners: Sequence[GoldenPathUser]
) -> tuple[list[Tracked], list[str]]:
    """One socket per entry of ``owners``: the ones that opened, and why others did not."""
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(user: GoldenPathUser) -> Tracked:
        async with gate:
            sock = await GoldenPathSocket.connect(
                ws_url, user.access_token, timeout=CONNECT_TIMEOUT_S
            )
        return Tracked(user, sock, int(sock.established.get("last_seq", 0)))

    outcomes = await asyncio.gather(*(one(u) for u in owners), return_exceptions=True)
    opened = [o for o in outcomes if isinstance(o, Tracked)]
    errors = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, ConnectionRefused | WaitTimeout | OSError | TimeoutError):
                raise outcome
            errors.append(f"{type(outcome).__name__}: {outcome}"[:300])
    return opened, errors


async def close_sockets(tracked: Sequence[Tracked]) -> None:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY * 2)

    async def one(t: Tracked) -> None:
        async with gate:
            await t.sock.close()

    await asyncio.gather(*(one(t) for t in tracked))


def _arrival(sock: GoldenPathSocket, frame: dict[str, Any]) -> float:
    """When the socket received ``frame`` (its transcript's timestamp, ``perf_counter``)."""
    for entry in reversed(sock.transcript):
        if entry.frame is frame:
            return entry.at
    return time.perf_counter()


async def one_run(t: Tracked, failures: Failures) -> tuple[float, float] | None:
    """Send one message, wait for its run to end: (arrival, latency in ms), or None if failed."""
    sock = t.sock
    since = len(sock.received())
    handle = await sock.send_message(CONTENT)
    request_id = handle.request_id
    try:
        frame = await sock.wait_for(
            lambda f: f.get("request_id") == request_id and f.get("type") in _TERMINAL,
            RUN_TIMEOUT_S,
            what=f"the end of run {request_id}",
            since=since,
            error_for=request_id,
        )
    except WaitTimeout as exc:
        failures.record(str(exc))
        return None
    if frame.get("type") != _COMPLETED:
        failures.record(f"run ended with {json.dumps(frame)}")
        return None
    arrived = _arrival(sock, frame)
    return arrived, (arrived - handle.sent_at) * 1000


async def persisted_events(
    api: GoldenPathHTTP, user: GoldenPathUser, after_seq: int
) -> list[dict[str, Any]]:
    """The user's events with ``seq > after_seq`` as the server stored them (every page)."""
    found: list[dict[str, Any]] = []
    for _ in range(MAX_EVENT_PAGES):
        page = await api.events(user.access_token, after_seq=after_seq)
        found.extend(page["events"])
        if not page["more"]:
            break
        after_seq = int(page["last_seq"])
    return found


def _seq_is(seq: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("seq") == seq


async def check_delivery(api: GoldenPathHTTP, tracked: Sequence[Tracked]) -> Delivery:
    """Compare what each socket received with what the server persisted for its user."""
    by_user: dict[str, list[Tracked]] = defaultdict(list)
    for t in tracked:
        by_user[str(t.user.user_id)].append(t)
    result = Delivery(sockets=len(tracked))
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    for user_id, sockets in by_user.items():
        stored = await persisted_events(api, sockets[0].user, min(s.after_seq for s in sockets))
        stored_seqs = [int(e["seq"]) for e in stored]
        for t in sockets:
            expected = {s for s in stored_seqs if s > t.after_seq}
            if expected:
                top = max(expected)
                with contextlib.suppress(WaitTimeout):  # what never came is counted as lost
                    await t.sock.wait_for(
                        _seq_is(top),
                        max(0.01, deadline - time.monotonic()),
                        what=f"event {top}",
                    )
            frames = t.sock.events()
            seqs = [int(f["seq"]) for f in frames]
            result.expected += len(expected)
            result.lost += len(expected - set(seqs))
            result.duplicated += len(seqs) - len(set(seqs))
            result.misdelivered += sum(1 for f in frames if f.get("user_id") != user_id)
    return result


def _pct(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# -- phase 1: latency -----------------------------------------------------------------------


@dataclass
class LatencyResult:
    users: int
    runs: int
    alone_ms: list[float]
    latencies_ms: list[float]
    seconds: float
    events: int
    delivery: Delivery
    cpu: CpuMeter
    sample_run: list[dict[str, Any]]

    @property
    def runs_per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def phase_latency(
    api: GoldenPathHTTP,
    ws_url: str,
    people: list[GoldenPathUser],
    messages_each: int,
    warmup: int,
    progress: Progress,
    failures: Failures,
    cpu: CpuMeter,
) -> LatencyResult:
    tracked, errors = await open_sockets(ws_url, people)
    try:
        if errors:
            raise BenchError(f"phase 1: {len(errors)} sockets did not open: {errors[0]}")
        latencies: list[float] = []

        async def serial(t: Tracked, count: int, keep: bool) -> None:
            for _ in range(count):
                outcome = await one_run(t, failures)
                progress.tick()
                if outcome is not None and keep:
                    latencies.append(outcome[1])

        if warmup:
            progress.begin("warm-up", len(tracked) * warmup)
            await asyncio.gather(*(serial(t, warmup, keep=False) for t in tracked))
        # The same runs with no one else on the server: the service time, without queueing.
        progress.begin("phase 1, one user alone", messages_each)
        await serial(tracked[0], messages_each, keep=True)
        alone = list(latencies)
        latencies.clear()
        progress.begin(f"phase 1, {len(tracked)} users", len(tracked) * messages_each)
        events_before = sum(len(t.sock.events()) for t in tracked)
        cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(serial(t, messages_each, keep=True) for t in tracked))
        seconds = time.perf_counter() - began
        cpu.stop(len(latencies))
        progress.end()
        received = sum(len(t.sock.events()) for t in tracked) - events_before
        delivery = await check_delivery(api, tracked)
        sample: list[dict[str, Any]] = []
        for frame in reversed(tracked[0].sock.events()):
            if frame.get("type") == _COMPLETED:
                sample = [
                    f
                    for f in tracked[0].sock.events()
                    if f.get("request_id") == frame["request_id"]
                ]
                break
        return LatencyResult(
            len(tracked),
            len(tracked) * messages_each,
            alone,
            latencies,
            seconds,
            received,
            delivery,
            cpu,
            sample,
        )
    finally:
        progress.end()
        await close_sockets(tracked)


# -- phase 2: throughput --------------------------------------------------------------------


@dataclass
class Step:
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
    users: int
    steps: list[Step]
    delivery: Delivery

    @property
    def best(self) -> Step | None:
        return max(self.steps, key=lambda s: s.runs_per_s, default=None)


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

            async def slot(t: Tracked, stop_at: float, records: list[tuple[float, float]]) -> None:
                while time.perf_counter() < stop_at:
                    outcome = await one_run(t, failures)
                    progress.tick()
                    if outcome is not None:
                        records.append(outcome)

            progress.detail = f"(step {number}/{len(levels)}: {level} runs in flight)"
            cpu = CpuMeter(server_pid)
            cpu.start()
            await asyncio.wait_for(
                asyncio.gather(*(slot(tracked[i % count], stop_at, records) for i in range(level))),
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
                    _pct(counted, 50),
                    _pct(counted, 99),
                    cpu,
                )
            )
        progress.end()
        delivery = await check_delivery(api, tracked)
        return ThroughputResult(count, steps, delivery)
    finally:
        progress.end()
        await close_sockets(tracked)


# -- phase 3: held connections --------------------------------------------------------------


@dataclass
class ConnectionsResult:
    wanted: int
    users: int
    opened: int
    held: int
    sent: int
    refused: list[str]
    delivery: Delivery
    open_seconds: float


async def phase_connections(
    api: GoldenPathHTTP,
    ws_url: str,
    wanted: int,
    progress: Progress,
    failures: Failures,
) -> ConnectionsResult:
    per_user = TIER.limits.open_websockets
    people = await make_users(api, math.ceil(wanted / per_user))
    owners = [people[i // per_user] for i in range(wanted)]  # blocks of 50: 5 senders each
    _say(f"phase 3: opening {wanted} sockets for {len(people)} users")
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
        )
    finally:
        progress.end()
        await close_sockets(tracked)


# -- the floor ------------------------------------------------------------------------------


async def echo_round_trips(url: str, count: int) -> list[float]:
    frame: dict[str, Any] = {
        "type": "agent_thinking",
        "seq": 1,
        "event_id": str(EventID.new()),
        "reasoning": "",
        "step": 1,
    }
    frame["reasoning"] = "x" * (ECHO_BYTES - len(json.dumps(frame)))
    payload = json.dumps(frame)  # ECHO_BYTES long
    samples: list[float] = []
    async with connect(url, max_size=None, proxy=None) as ws:
        for number in range(ECHO_WARMUP + count):
            began = time.perf_counter()
            await ws.send(payload)
            answer = await ws.recv()
            elapsed = (time.perf_counter() - began) * 1000
            if answer != payload:
                raise BenchError("the echo server answered something else")
            if number >= ECHO_WARMUP:
                samples.append(elapsed)
    return samples


def floor_echo(log_dir: Path) -> list[float]:
    port = free_port()
    server = launch(
        "echo server",
        [sys.executable, str(Path(__file__).resolve()), "--serve-echo", str(port)],
        log_path=log_dir / "echo.log",
        ready_pattern=r"Uvicorn running on",
        stop_signal=signal.SIGTERM,
        cwd=ROOT,
    )
    try:
        server.wait_ready(READY_TIMEOUT_S)
        return asyncio.run(echo_round_trips(f"ws://127.0.0.1:{port}/echo", ECHO_ROUND_TRIPS))
    finally:
        _stop(server)


@dataclass
class WritesResult:
    transactions: int
    statements: int
    one_connection_ms: list[float]
    pool_ms: list[float]


def _fresh(template: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    event = {k: v for k, v in template.items() if k != "seq"}
    event.update(ids)
    event["event_id"] = str(EventID.new())
    event["timestamp"] = rfc3339(utcnow())
    return event


async def run_writes(
    borrow: Callable[[], AbstractAsyncContextManager[Conn]],
    user_id: UserID,
    sample_run: list[dict[str, Any]],
) -> None:
    """The PostgreSQL writes of one run, as ``RunService`` makes them (see its module)."""
    now = utcnow()
    request_id = RequestID.new()
    async with borrow() as conn:  # admission (golden_path.server.runs.admission.admit)
        await users.lock(conn, user_id)
        await runs.by_request(conn, user_id, request_id)
        await runs.count_since(conn, user_id, start_of_utc_day(now))
        await runs.count_running(conn, user_id)
        thread = await threads.create(conn, user_id, threads.title_from(CONTENT))
        run_id = RunID.new()
        message_id = await messages.insert(
            conn,
            user_id=user_id,
            thread_id=ThreadID(thread.id),
            role="user",
            content=CONTENT,
            run_id=run_id,
            message_id=MessageID.new(),
        )
        await runs.create(
            conn,
            run_id=run_id,
            user_id=user_id,
            thread_id=thread.id,
            request_id=request_id,
            message_id=message_id,
            node_id="bench",
        )
        await threads.touch(conn, thread.id)
    ids = {
        "user_id": str(user_id),
        "thread_id": str(thread.id),
        "run_id": str(run_id),
        "request_id": str(request_id),
    }
    for template in sample_run[:-1]:  # one transaction per non-terminal event
        async with borrow() as conn:
            await events.append(conn, user_id, run_id, _fresh(template, ids))
    done = sample_run[-1]
    spent = done["usage"]
    async with borrow() as conn:  # the end: status, terminal event, ledger, answer, thread
        await runs.finish(
            conn,
            run_id,
            status=RunStatus.SUCCEEDED,
            result=done["result"],
            input_tokens=int(spent["input_tokens"]),
            output_tokens=int(spent["output_tokens"]),
            cost_usd=float(spent["cost_usd"]),
        )
        await events.append(conn, user_id, run_id, _fresh(done, ids))
        await usage.bill(
            conn,
            run_id=run_id,
            user_id=user_id,
            day=now.date(),
            input_tokens=int(spent["input_tokens"]),
            output_tokens=int(spent["output_tokens"]),
            cost_usd=float(spent["cost_usd"]),
        )
        await messages.insert(
            conn,
            user_id=user_id,
            thread_id=ThreadID(thread.id),
            role="assistant",
            content=str(done["final_response"]),
            run_id=run_id,
        )
        await threads.touch(conn, thread.id)


async def time_writes(dsn: str, sample_run: list[dict[str, Any]]) -> WritesResult:
    from golden_path.db.migrate import migrate_dsn

    await migrate_dsn(dsn)
    db = await Database.open(dsn, 10)  # the server's pool and role
    try:
        async with db.pool.acquire() as conn:
            async with scoped(conn, system=True, role=db.app_role):
                user = await users.create(conn, f"bench-{RunID.new()}@bench.test", "-")
                await users.set_tier(conn, user.id, TIER)

            @asynccontextmanager
            async def same_connection() -> AsyncIterator[Conn]:
                async with scoped(conn, user_id=user.id, role=db.app_role) as c:
                    yield c

            def pooled() -> AbstractAsyncContextManager[Conn]:
                return db.as_user(user.id)

            timings: dict[str, list[float]] = {"one": [], "pool": []}
            for number in range(WRITES_WARMUP + WRITES_RUNS):
                for name, borrow in (("one", same_connection), ("pool", pooled)):
                    began = time.perf_counter()
                    await run_writes(borrow, user.id, sample_run)
                    if number >= WRITES_WARMUP:
                        timings[name].append((time.perf_counter() - began) * 1000)
    finally:
        await db.close()
    non_terminal = len(sample_run) - 1
    return WritesResult(
        transactions=2 + non_terminal,
        # + BEGIN, set_config and COMMIT per transaction
        statements=8 + 2 * non_terminal + 6 + 3 * (2 + non_terminal),
        one_connection_ms=timings["one"],
        pool_ms=timings["pool"],
    )


def floor_writes(sample_run: list[dict[str, Any]]) -> WritesResult:
    provider = EmbeddedProvider()
    try:
        services = provider.start()  # stops what it started itself if interrupted
        return asyncio.run(time_writes(services.postgres_dsn, sample_run))
    finally:
        with _signals_held():
            provider.stop()


# -- the report -----------------------------------------------------------------------------


@dataclass
class Report:
    url: str
    started_server: bool
    code: str = ""
    latency: LatencyResult | None = None
    throughput: ThroughputResult | None = None
    connections: ConnectionsResult | None = None
    echo_ms: list[float] = field(default_factory=list)
    writes: WritesResult | None = None
    failures: Failures = field(default_factory=Failures)

    def delivery(self) -> Delivery:
        total = Delivery()
        for phase in (self.latency, self.throughput, self.connections):
            if phase is not None:
                total.add(phase.delivery)
        return total

    def correct(self) -> bool:
        d = self.delivery()
        return d.lost == d.duplicated == d.misdelivered == self.failures.count == 0


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(report: Report, args: argparse.Namespace) -> str:
    out: list[str] = []
    where = "started by this script, embedded services" if report.started_server else "given"
    out.append(f"golden-path benchmark: {report.url} ({where})")
    if report.code:
        out.append(f"code: {report.code}; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    out.append(
        f"settings: users {args.users}, messages {args.messages} (+{args.warmup} warm-up), "
        f"connections {args.connections}; tier {TIER.value}; message {CONTENT!r}"
    )
    row = "  {:<46} {}"
    lat = report.latency
    if lat is not None:
        per_run = lat.events / len(lat.latencies_ms) if lat.latencies_ms else 0.0
        out.append(f"phase 1: latency at {lat.users} concurrent users, one message at a time")
        out.append(
            row.format(
                "runs measured (events per run)",
                f"{len(lat.latencies_ms)}/{lat.runs} ({per_run:.1f})",
            )
        )
        out.append(
            row.format(
                "latency p50 / p95 / p99 / max",
                " / ".join(f"{_pct(lat.latencies_ms, q):.1f}" for q in (50, 95, 99, 100)) + " ms",
            )
        )
        out.append(
            row.format(
                "the same runs by one user alone: p50 / p99",
                f"{_pct(lat.alone_ms, 50):.1f} / {_pct(lat.alone_ms, 99):.1f} ms",
            )
        )
        if lat.runs_per_s:
            out.append(
                row.format(
                    "users / (runs/s): the closed-loop mean",
                    f"{1000 * lat.users / lat.runs_per_s:.1f} ms (Little's law: every user "
                    "sends again at once, so latency = users / throughput)",
                )
            )
        out.append(
            row.format(
                "runs/s, events/s", f"{lat.runs_per_s:.0f} runs/s, {lat.events_per_s:.0f} events/s"
            )
        )
        out.append(row.format(f"CPU (100% = one core of {os.cpu_count()})", lat.cpu.summary()))
        if lat.cpu.cost():
            out.append(row.format("", lat.cpu.cost()))
    tp = report.throughput
    if tp is not None:
        out.append(f"phase 2: throughput, {tp.users} users, one socket each")
        for step in tp.steps:
            out.append(
                row.format(
                    f"{step.in_flight} runs in flight",
                    f"{step.runs_per_s:.0f} runs/s (p50 {step.p50_ms:.1f} ms, "
                    f"p99 {step.p99_ms:.1f} ms)",
                )
            )
            out.append(row.format("", f"CPU {step.cpu.summary()}"))
            if step.cpu.cost():
                out.append(row.format("", step.cpu.cost()))
        best = tp.best
        if best is not None:
            out.append(
                row.format(
                    "max sustained", f"{best.runs_per_s:.0f} runs/s at {best.in_flight} in flight"
                )
            )
    con = report.connections
    if con is not None:
        out.append(f"phase 3: held connections, {con.users} users")
        out.append(
            row.format(
                "connections opened / held",
                f"{con.opened}/{con.wanted} opened in {con.open_seconds:.1f} s, "
                f"{con.held} held to the end",
            )
        )
        out.append(
            row.format(
                "messages sent (every 10th socket)",
                f"{con.sent}; {con.delivery.expected} event deliveries expected, "
                f"{con.delivery.lost} lost",
            )
        )
        for reason in con.refused[:3]:
            out.append(row.format("not opened", reason))
    d = report.delivery()
    out.append("correctness (all phases; each must be 0)")
    out.append(
        row.format(
            "lost / duplicated / misdelivered / failed runs",
            f"{d.lost} / {d.duplicated} / {d.misdelivered} / {report.failures.count} "
            f"(of {d.expected} event deliveries on {d.sockets} sockets)",
        )
    )
    for sample in report.failures.samples:
        out.append(row.format("a failure", sample))
    floor = math.nan
    if report.echo_ms or report.writes is not None:
        out.append("floor: the same stack without the product")
    if report.echo_ms:
        out.append(
            row.format(
                f"WebSocket echo, {len(report.echo_ms)} × ~1 KB, p50 / p99",
                f"{_pct(report.echo_ms, 50):.3f} / {_pct(report.echo_ms, 99):.3f} ms",
            )
        )
    writes = report.writes
    if writes is not None:
        out.append(
            row.format(
                f"one run's PostgreSQL writes ({writes.transactions} txns, "
                f"{writes.statements} round trips)",
                f"median {statistics.median(writes.one_connection_ms):.2f} ms on one "
                f"connection, {statistics.median(writes.pool_ms):.2f} ms borrowing from "
                "the pool per transaction (as the server)",
            )
        )
        if report.echo_ms:
            floor = _pct(report.echo_ms, 50) + statistics.median(writes.one_connection_ms)
            out.append(row.format("floor = echo p50 + writes median", f"{floor:.2f} ms"))
            if lat is not None and lat.latencies_ms:
                out.append(
                    row.format(
                        "golden-path p50 / floor",
                        f"{_pct(lat.latencies_ms, 50) / floor:.1f}×",
                    )
                )
    out.append("targets")
    if lat is not None and lat.latencies_ms:
        p50, p99 = _pct(lat.latencies_ms, 50), _pct(lat.latencies_ms, 99)
        note = "" if lat.users == TARGET_USERS else f" (measured at {lat.users} users)"
        out.append(
            row.format(
                f"p50 ≤ {TARGET_P50_MS:.0f} ms at {TARGET_USERS} users",
                f"{p50:.1f} ms: {_verdict(p50 <= TARGET_P50_MS)}{note}",
            )
        )
        out.append(
            row.format(
                f"p99 ≤ {TARGET_P99_MS:.0f} ms at {TARGET_USERS} users",
                f"{p99:.1f} ms: {_verdict(p99 <= TARGET_P99_MS)}{note}",
            )
        )
    if tp is not None and tp.best is not None:
        rate = tp.best.runs_per_s
        out.append(
            row.format(
                f"≥ {TARGET_RUNS_PER_S:.0f} runs/s from one server process",
                f"{rate:.0f} runs/s: {_verdict(rate >= TARGET_RUNS_PER_S)}",
            )
        )
    if con is not None:
        ok = con.held >= TARGET_CONNECTIONS and con.delivery.lost == 0 and not con.refused
        out.append(
            row.format(
                f"{TARGET_CONNECTIONS} connections held, nothing lost",
                f"{con.held} held, {con.delivery.lost} lost: {_verdict(ok)}",
            )
        )
    out.append(
        "correctness: "
        + ("ok" if report.correct() else "FAILED (a count above is not 0; exit status 1)")
    )
    return "\n".join(out)


# -- main -----------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, report: Report, server_pid: int | None) -> None:
    """Phases 1 to 3 against ``report.url``."""
    progress = Progress()
    failures = report.failures
    ws_url = ws_url_of(report.url)
    async with GoldenPathHTTP(report.url) as api:
        await api.request("GET", "/readyz")
        async with asyncio.timeout(PHASE_TIMEOUT_S):
            _say(f"creating {args.users * 2} {TIER.value} users")
            people = await make_users(api, args.users * 2)
            report.latency = await phase_latency(
                api,
                ws_url,
                people[: args.users],
                args.messages,
                args.warmup,
                progress,
                failures,
                CpuMeter(server_pid),
            )
        async with asyncio.timeout(PHASE_TIMEOUT_S):
            report.throughput = await phase_throughput(
                api, ws_url, people, progress, failures, server_pid
            )
        if args.connections:
            async with asyncio.timeout(PHASE_TIMEOUT_S):
                report.connections = await phase_connections(
                    api, ws_url, args.connections, progress, failures
                )


def run(args: argparse.Namespace, log_dir: Path) -> Report:
    report = Report(url=args.url or "", started_server=args.url is None)
    server: ServerProcess | None = None
    try:
        if args.url is None:
            report.code = code_version()
            server, report.url = start_server(log_dir)
            _say(f"starting golden-path serve (pid {server.pid}) on {report.url}")
            server.wait_ready(READY_TIMEOUT_S)
        asyncio.run(measure(args, report, server.pid if server is not None else None))
    finally:
        if server is not None:
            _say("stopping golden-path serve")
            _stop(server)
    _say("floor: WebSocket echo")
    report.echo_ms = floor_echo(log_dir)
    if report.latency is not None and report.latency.sample_run:
        _say("floor: one run's PostgreSQL writes, on an embedded PostgreSQL of our own")
        report.writes = floor_writes(report.latency.sample_run)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/golden_path.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", default=None, help="a running server (default: start one)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users in phase 1 (20)")
    parser.add_argument("--messages", type=int, default=25, help="messages per user (25)")
    parser.add_argument("--connections", type=int, default=500, help="sockets in phase 3 (500)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up messages per user (3)")
    parser.add_argument("--serve-echo", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_echo is not None:
        serve_echo(args.serve_echo)
        return 0
    if args.users < 1 or args.messages < 1 or args.warmup < 0 or args.connections < 0:
        parser.error("--users and --messages must be at least 1, the others at least 0")
    if args.url is not None:
        args.url = args.url.rstrip("/")
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    _raise_open_files(2 * args.connections + 1024)
    log_dir = Path(tempfile.mkdtemp(prefix="golden-path-bench-"))
    try:
        report = run(args, log_dir)
    except KeyboardInterrupt:
        _say("\ninterrupted; every process started was stopped")
        return 130
    except (ApiError, TimeoutError, OSError, RuntimeError) as exc:
        _say(f"\nthe benchmark could not run: {type(exc).__name__}: {exc}\nlogs: {log_dir}")
        return 2
    shutil.rmtree(log_dir, ignore_errors=True)
    print(render(report, args), flush=True)
    return 0 if report.correct() else 1


if __name__ == "__main__":
    sys.exit(main())
