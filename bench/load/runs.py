"""One run over a socket (send a message, wait for its end), timed; the failures recorded."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench.load.progress import Progress
from bench.load.settings import CONTENT, RUN_TIMEOUT_S
from bench.load.sockets import Tracked
from golden_path.client import GoldenPathSocket, WaitTimeout
from golden_path.protocol import TERMINAL_EVENTS, EventType, ServerFrame

TERMINAL = frozenset(e.value for e in TERMINAL_EVENTS)
COMPLETED = EventType.AGENT_COMPLETED.value
ANSWERS = TERMINAL | {ServerFrame.ERROR.value}  # what ends a request, for better or worse


@dataclass
class Failures:
    """Runs that failed (an error frame, ``agent_error`` or no answer), with a few samples."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, text: str, count: int = 1) -> None:
        self.count += count
        if len(self.samples) < 5:
            self.samples.append(" ".join(text.split())[:300])


def arrival(sock: GoldenPathSocket, frame: dict[str, Any]) -> float:
    """When the socket received ``frame`` (its transcript's timestamp, ``perf_counter``)."""
    for entry in reversed(sock.transcript):
        if entry.frame is frame:
            return entry.at
    return time.perf_counter()


async def one_run(t: Tracked, failures: Failures) -> tuple[float, float] | None:
    """Send one message, wait for its run to end: (arrival, latency in ms), or None if failed.

    A run's latency is from sending its ``user_message`` to receiving its
    ``agent_completed`` (matched by ``request_id``; the socket's own receive timestamp).
    """
    sock = t.sock
    since = len(sock.received())
    handle = await sock.send_message(CONTENT)
    request_id = handle.request_id
    try:
        frame = await sock.wait_for(
            lambda f: f.get("request_id") == request_id and f.get("type") in TERMINAL,
            RUN_TIMEOUT_S,
            what=f"the end of run {request_id}",
            since=since,
            error_for=request_id,
        )
    except WaitTimeout as exc:
        failures.record(str(exc))
        return None
    if frame.get("type") != COMPLETED:
        failures.record(f"run ended with {json.dumps(frame)}")
        return None
    arrived = arrival(sock, frame)
    return arrived, (arrived - handle.sent_at) * 1000


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


def last_completed_run(sock: GoldenPathSocket) -> list[dict[str, Any]]:
    """The events of the last run ``sock`` saw completed (a template for the floor's writes)."""
    received = sock.events()
    for frame in reversed(received):
        if frame.get("type") == COMPLETED:
            return [f for f in received if f.get("request_id") == frame["request_id"]]
    return []
