"""Benchmark the golden path end to end: run latency, throughput, held connections, and the floor.

Usage::

    python bench/golden_path.py [--url http://host:port] [--users N=20] [--rate R=100]
                                [--messages M=25] [--connections C=500] [--warmup W=3]

Without ``--url`` it starts ``golden-path serve`` as a separate process (its own GIL,
its own embedded PostgreSQL and Redis, ``GOLDEN_PATH_PASSWORD_HASH=fast``) on a free
port of 127.0.0.1, and stops it with SIGTERM at the end, whatever happens.

A run's latency is from sending its ``user_message`` to receiving its ``agent_completed``
(matched by ``request_id``; the socket's own receive timestamp).

* phase 1a, latency (open loop; the latency targets are judged on it): N enterprise users,
  one socket each; after W warm-up messages per user, the M runs of one user alone, one at
  a time, give the service time without queueing. Then every user sends M messages on a
  schedule fixed in advance, R messages/s in total: user i sends its k-th message at
  t0 + (i/N + k) * N/R (every user every N/R s, the users evenly staggered), whether or not
  its earlier runs have ended (several may be in flight; enterprise allows 20 at once).
  This is the latency a user sees with N users on the server. Reported with the achieved
  send rate, runs/s completed and the late sends (started more than 5 ms after their
  scheduled time); if more than 5% are late, the load generator fell behind and bounds
  the figures.
* phase 1b, saturation (closed loop): the same N users, one new socket each, send M
  messages, one at a time (send ``user_message``, wait for its ``agent_completed``, send
  the next at once). With no pause between messages the mean latency is N / throughput
  (Little's law): it measures queueing at saturation, not the latency a user sees.
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
and p99 ≤ 50 ms at 20 concurrent users (phase 1a, open loop, at the default 100
messages/s), ≥ 250 runs/s from one server process (max sustained, phase 2), 500 open
connections held with nothing lost (phase 3); a missed target is reported, not an error.
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

from golden_path.agent import Completion, Usage
from golden_path.client import (
    ApiError,
    ConnectionRefused,
    GoldenPathHTTP,
    GoldenPathSocket,
    WaitTimeout,
)
from golden_path.db import events, users
from golden_path.db.pool import Conn
from golden_path.db.scope import Database, scoped
from golden_path.ids import EventID, RequestID, RunID, UserID
from golden_path.protocol import TERMINAL_EVENTS, EventType, ServerFrame
from golden_path.server.clock import rfc3339, utcnow
from golden_path.server.runs.admission import Admitted, admit
from golden_path.server.runs.completion import record_completion
from golden_path.server.runs.events import RunScope
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.processes import ServerProcess, free_port, launch
from golden_path.testing.users import GoldenPathUser, create_user
from golden_path.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
TIER = Tier.ENTERPRISE
CONTENT = "How much did we spend on AI this month?"

TARGET_USERS = 20
TARGET_RATE = 100.0  # messages per second in total, the open loop's default
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
LATE_MS = 5.0  # a send that starts later than this after its scheduled time is late
LATE_SHARE = 0.05  # above this share of late sends, the latencies are bounded by the generator
COLLECT_EVERY_S = 0.05
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
_ANSWERS = _TERMINAL | {ServerFrame.ERROR.value}  # what ends a request, for better or worse
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


# -- phase 1: latency (open loop) and saturation (closed loop) -------------------------------


async def serial_runs(
    t: Tracked,
    count: int,
    failures: Failures,
    progress: Progress,
    latencies: list[float] | None = None,
) -> None:
    """``count`` runs on ``t``, one at a time (each message once the previous run ended)."""
    for _ in range(count):
        outcome = await one_run(t, failures)
        progress.tick()
        if outcome is not None and latencies is not None:
            latencies.append(outcome[1])


def _sample_run(sock: GoldenPathSocket) -> list[dict[str, Any]]:
    """The events of the last run ``sock`` saw completed (a template for the floor's writes)."""
    received = sock.events()
    for frame in reversed(received):
        if frame.get("type") == _COMPLETED:
            return [f for f in received if f.get("request_id") == frame["request_id"]]
    return []


def _rate_over(count: int, first: float, last: float) -> float:
    """Events per second of ``count`` events from ``first`` to ``last`` (one interval fewer)."""
    return (count - 1) / (last - first) if count > 1 and last > first else 0.0


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
                if send is not None and frame.get("type") in _ANSWERS:
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
        done = [s for s in sends if s.answer is not None and s.answer.get("type") == _COMPLETED]
        cpu.stop(len(done))
        progress.end()
        received = sum(len(t.sock.events()) for t in tracked) - events_before
        for s in sends:
            if s.answer is None:
                failures.record(f"no answer to {s.request_id} within {RUN_TIMEOUT_S:.0f} s")
            elif s.answer.get("type") != _COMPLETED:
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
            send_rate=_rate_over(len(sends), min(sent_at, default=0), max(sent_at, default=0)),
            runs_per_s=_rate_over(len(done), min(arrived, default=0), max(arrived, default=0)),
            events=received,
            delivery=delivery,
            cpu=cpu,
            sample_run=_sample_run(tracked[0].sock),
        )
    finally:
        progress.end()
        await close_sockets(tracked)


@dataclass
class SaturationResult:
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
    async with borrow() as conn:  # admission: the server's own function
        admitted = await admit(
            conn,
            user_id=user_id,
            tier=Tier.ENTERPRISE,
            content=CONTENT,
            thread_id=None,
            request_id=RequestID.new(),
            node_id="bench",
            now=now,
        )
    assert isinstance(admitted, Admitted), admitted
    run = admitted.run
    scope = RunScope(user_id, run.thread_id, run.id, run.request_id, "spend_optimizer")
    ids = {
        "user_id": str(user_id),
        "thread_id": str(run.thread_id),
        "run_id": str(run.id),
        "request_id": str(run.request_id),
    }
    for template in sample_run[:-1]:  # one transaction per non-terminal event
        async with borrow() as conn:
            await events.append(conn, user_id, run.id, _fresh(template, ids))
    done = sample_run[-1]
    spent = done["usage"]
    completion = Completion(
        final_response=str(done["final_response"]),
        result=done["result"],
        usage=Usage(int(spent["input_tokens"]), int(spent["output_tokens"]), spent["cost_usd"]),
        upgrade=None,
    )
    async with borrow() as conn:  # the end: the server's own function, in one transaction
        await record_completion(conn, scope, completion, _fresh(done, ids), now.date())


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
    saturation: SaturationResult | None = None
    throughput: ThroughputResult | None = None
    connections: ConnectionsResult | None = None
    echo_ms: list[float] = field(default_factory=list)
    writes: WritesResult | None = None
    failures: Failures = field(default_factory=Failures)

    def delivery(self) -> Delivery:
        total = Delivery()
        for phase in (self.latency, self.saturation, self.throughput, self.connections):
            if phase is not None:
                total.add(phase.delivery)
        return total

    def correct(self) -> bool:
        d = self.delivery()
        return d.lost == d.duplicated == d.misdelivered == self.failures.count == 0


ROW = "  {:<46} {}"


def _row(label: str, value: str) -> str:
    return ROW.format(label, value)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _percentiles(samples: Sequence[float]) -> str:
    return " / ".join(f"{_pct(samples, q):.1f}" for q in (50, 95, 99, 100)) + " ms"


def _cpu_rows(cpu: CpuMeter) -> list[str]:
    rows = [_row(f"CPU (100% = one core of {os.cpu_count()})", cpu.summary())]
    if cpu.cost():
        rows.append(_row("", cpu.cost()))
    return rows


def render_latency(lat: LatencyResult) -> list[str]:
    per_run = lat.events / len(lat.latencies_ms) if lat.latencies_ms else 0.0
    period_ms = 1000 * lat.users / lat.rate
    late_share = 100 * lat.late / len(lat.late_ms) if lat.late_ms else 0.0
    out = [
        f"phase 1a: latency, open loop: {lat.users} users, {lat.rate:g} messages/s in total "
        f"(each user every {period_ms:.0f} ms on a fixed schedule, not waiting for answers)",
        _row(
            "runs measured (events per run)",
            f"{len(lat.latencies_ms)}/{lat.planned} ({per_run:.1f})",
        ),
        _row("latency p50 / p95 / p99 / max", _percentiles(lat.latencies_ms)),
        _row(
            "the same runs by one user alone: p50 / p99",
            f"{_pct(lat.alone_ms, 50):.1f} / {_pct(lat.alone_ms, 99):.1f} ms",
        ),
        _row(
            "sends: achieved rate",
            f"{lat.send_rate:.1f} messages/s ({len(lat.late_ms)} sent of {lat.planned})",
        ),
        _row(
            f"late sends (> {LATE_MS:.0f} ms after schedule)",
            f"{lat.late} ({late_share:.1f}%); lateness p99 {_pct(lat.late_ms, 99):.1f} ms, "
            f"max {_pct(lat.late_ms, 100):.1f} ms",
        ),
    ]
    if lat.generator_bound:
        out.append(
            _row(
                "",
                f"more than {100 * LATE_SHARE:.0f}% of sends were late: the load generator fell "
                "behind, so these figures are bounded by the generator, not the server",
            )
        )
    out.append(_row("runs/s completed", f"{lat.runs_per_s:.0f} runs/s"))
    out.extend(_cpu_rows(lat.cpu))
    return out


def render_saturation(sat: SaturationResult) -> list[str]:
    per_run = sat.events / len(sat.latencies_ms) if sat.latencies_ms else 0.0
    out = [
        f"phase 1b: saturation, closed loop: {sat.users} users, each sends its next message "
        "as soon as its run ends",
        _row(
            "runs measured (events per run)",
            f"{len(sat.latencies_ms)}/{sat.runs} ({per_run:.1f})",
        ),
        _row("latency p50 / p95 / p99 / max", _percentiles(sat.latencies_ms)),
    ]
    if sat.runs_per_s:
        out.append(
            _row(
                "users / (runs/s): the closed-loop mean",
                f"{1000 * sat.users / sat.runs_per_s:.1f} ms (Little's law: every user "
                "sends again at once, so latency = users / throughput: queueing, "
                "not what a user sees)",
            )
        )
    out.append(
        _row("runs/s, events/s", f"{sat.runs_per_s:.0f} runs/s, {sat.events_per_s:.0f} events/s")
    )
    out.extend(_cpu_rows(sat.cpu))
    return out


def render_throughput(tp: ThroughputResult) -> list[str]:
    out = [f"phase 2: throughput, {tp.users} users, one socket each"]
    for step in tp.steps:
        out.append(
            _row(
                f"{step.in_flight} runs in flight",
                f"{step.runs_per_s:.0f} runs/s (p50 {step.p50_ms:.1f} ms, "
                f"p99 {step.p99_ms:.1f} ms)",
            )
        )
        out.append(_row("", f"CPU {step.cpu.summary()}"))
        if step.cpu.cost():
            out.append(_row("", step.cpu.cost()))
    best = tp.best
    if best is not None:
        out.append(
            _row("max sustained", f"{best.runs_per_s:.0f} runs/s at {best.in_flight} in flight")
        )
    return out


def render_connections(con: ConnectionsResult) -> list[str]:
    out = [
        f"phase 3: held connections, {con.users} users",
        _row(
            "connections opened / held",
            f"{con.opened}/{con.wanted} opened in {con.open_seconds:.1f} s, "
            f"{con.held} held to the end",
        ),
        _row(
            "messages sent (every 10th socket)",
            f"{con.sent}; {con.delivery.expected} event deliveries expected, "
            f"{con.delivery.lost} lost",
        ),
    ]
    out.extend(_row("not opened", reason) for reason in con.refused[:3])
    return out


def render_floor(report: Report) -> list[str]:
    if not report.echo_ms and report.writes is None:
        return []
    out = ["floor: the same stack without the product"]
    if report.echo_ms:
        out.append(
            _row(
                f"WebSocket echo, {len(report.echo_ms)} × ~1 KB, p50 / p99",
                f"{_pct(report.echo_ms, 50):.3f} / {_pct(report.echo_ms, 99):.3f} ms",
            )
        )
    writes = report.writes
    if writes is not None:
        out.append(
            _row(
                f"one run's PostgreSQL writes ({writes.transactions} transactions)",
                f"median {statistics.median(writes.one_connection_ms):.2f} ms on one "
                f"connection, {statistics.median(writes.pool_ms):.2f} ms borrowing from "
                "the pool per transaction (as the server)",
            )
        )
        if report.echo_ms:
            floor = _pct(report.echo_ms, 50) + statistics.median(writes.one_connection_ms)
            out.append(_row("floor = echo p50 + writes median", f"{floor:.2f} ms"))
            lat = report.latency
            if lat is not None and lat.latencies_ms:
                out.append(
                    _row(
                        "golden-path p50 (open loop) / floor",
                        f"{_pct(lat.latencies_ms, 50) / floor:.1f}×",
                    )
                )
    return out


def render_targets(report: Report) -> list[str]:
    out = ["targets"]
    lat = report.latency
    if lat is not None and lat.latencies_ms:
        p50, p99 = _pct(lat.latencies_ms, 50), _pct(lat.latencies_ms, 99)
        notes = []
        if lat.users != TARGET_USERS or lat.rate != TARGET_RATE:
            notes.append(
                f"measured at {lat.users} users, {lat.rate:g} messages/s; the target is "
                f"judged at {TARGET_USERS} users, {TARGET_RATE:g} messages/s"
            )
        if lat.generator_bound:
            notes.append("bounded by the load generator")
        note = f" ({'; '.join(notes)})" if notes else ""
        where = f"at {TARGET_USERS} users (open loop)"
        out.append(
            _row(
                f"p50 ≤ {TARGET_P50_MS:.0f} ms {where}",
                f"{p50:.1f} ms: {_verdict(p50 <= TARGET_P50_MS)}{note}",
            )
        )
        out.append(
            _row(
                f"p99 ≤ {TARGET_P99_MS:.0f} ms {where}",
                f"{p99:.1f} ms: {_verdict(p99 <= TARGET_P99_MS)}{note}",
            )
        )
    tp = report.throughput
    if tp is not None and tp.best is not None:
        rate = tp.best.runs_per_s
        out.append(
            _row(
                f"≥ {TARGET_RUNS_PER_S:.0f} runs/s from one server process",
                f"{rate:.0f} runs/s (max sustained, phase 2): "
                f"{_verdict(rate >= TARGET_RUNS_PER_S)}",
            )
        )
    con = report.connections
    if con is not None:
        ok = con.held >= TARGET_CONNECTIONS and con.delivery.lost == 0 and not con.refused
        out.append(
            _row(
                f"{TARGET_CONNECTIONS} connections held, nothing lost",
                f"{con.held} held, {con.delivery.lost} lost: {_verdict(ok)}",
            )
        )
    return out


def render(report: Report, args: argparse.Namespace) -> str:
    where = "started by this script, embedded services" if report.started_server else "given"
    out = [f"golden-path benchmark: {report.url} ({where})"]
    if report.code:
        out.append(f"code: {report.code}; Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    out.append(
        f"settings: users {args.users}, rate {args.rate:g} messages/s, messages {args.messages} "
        f"(+{args.warmup} warm-up), connections {args.connections}; tier {TIER.value}; "
        f"message {CONTENT!r}"
    )
    if report.latency is not None:
        out.extend(render_latency(report.latency))
    if report.saturation is not None:
        out.extend(render_saturation(report.saturation))
    if report.throughput is not None:
        out.extend(render_throughput(report.throughput))
    if report.connections is not None:
        out.extend(render_connections(report.connections))
    d = report.delivery()
    out.append("correctness (all phases; each must be 0)")
    out.append(
        _row(
            "lost / duplicated / misdelivered / failed runs",
            f"{d.lost} / {d.duplicated} / {d.misdelivered} / {report.failures.count} "
            f"(of {d.expected} event deliveries on {d.sockets} sockets)",
        )
    )
    out.extend(_row("a failure", sample) for sample in report.failures.samples)
    out.extend(render_floor(report))
    out.extend(render_targets(report))
    out.append(
        "correctness: "
        + ("ok" if report.correct() else "FAILED (a count above is not 0; exit status 1)")
    )
    return "\n".join(out)


# -- main -----------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, report: Report, server_pid: int | None) -> None:
    """Phases 1a to 3 against ``report.url``."""
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
                args.rate,
                args.messages,
                args.warmup,
                progress,
                failures,
                CpuMeter(server_pid),
            )
        async with asyncio.timeout(PHASE_TIMEOUT_S):
            report.saturation = await phase_saturation(
                api,
                ws_url,
                people[: args.users],
                args.messages,
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
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RATE,
        help=f"messages per second in total in phase 1a, the open loop ({TARGET_RATE:g}); "
        f"each user sends every users/rate s, and may have up to "
        f"{TIER.limits.concurrent_runs} runs at once",
    )
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
    if not args.rate > 0 or math.isinf(args.rate):
        parser.error("--rate must be a positive number of messages per second")
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
