"""Phase 4, abuse beside the normal load: an open loop, once plain and once while a process
of its own (``bench.load.abuser``) runs a slow reader and a login flood against the server
(issue 13's "sockets that cannot eat the server").

The two loops run back to back, at the same rate: by default 40% of the server's measured
capacity (phase 2's max sustained runs/s), where a server has headroom. At saturation
any extra work, however well defended, makes a queue, and the comparison would say
nothing about the defences. The abusers are not in this process: their work would
otherwise slow the load generator's event loop and be counted as the server's latency.
The flood comes from loopback addresses of its own (127.0.0.2 and on), and the server
runs with its default throttles, so what the flood meets is what a deployment has.

Between the two, the same loop runs beside one busy core (``bench.load.neighbour``, at
the priority of the server's hashing): the cost of one more busy core on this machine,
whatever keeps it busy, against which the abused loop is also compared.

Printed: everybody else's p50/p99 plain, beside the busy core, and abused (abused /
plain must stay within 2x; abused / neighbour is what the abuse costs beyond one busy
core), the server's peak RSS (``VmHWM``, reset at the start of the abused loop), the
slow reader's close and the flood's answers, and the delivery check of the well-behaved
sockets.

Not on Locust: the loops are open loops, as phase 1a's (``latency`` says why), and the
abusers must be processes of the benchmark's own, started and stopped around one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load.cpu import CpuMeter
from bench.load.latency import LatencyResult, phase_latency
from bench.load.progress import Progress, say
from bench.load.runs import Failures, serial_runs
from bench.load.settings import ATTACKER_RUNS, ROOT, BenchError
from bench.load.sockets import close_sockets, open_sockets
from golden_path.client import GoldenPathHTTP
from golden_path.testing.identity.users import GoldenPathUser

FLOOD_RATE = 50.0  # logins a second
FLOOD_ADDRESSES = 8
HELPER_READY_S = 60.0
HELPER_REPORT_S = 60.0


@dataclass
class AbuseResult:
    plain: LatencyResult
    neighboured: LatencyResult
    abused: LatencyResult
    neighbour_cpu_s: float = 0.0
    slow_reader: dict[str, Any] = field(default_factory=dict)
    logins_sent: int = 0
    flood_seconds: float = 0.0
    logins: Counter[str] = field(default_factory=Counter)
    flood_rate: float = FLOOD_RATE
    flood_addresses: int = FLOOD_ADDRESSES
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0


def memory_mb(pid: int | None, field_name: str) -> float:
    """``VmRSS`` or ``VmHWM`` (the peak) of ``pid``, in MiB (0 when unknown)."""
    if pid is None:
        return 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_memory(pid: int | None) -> None:
    """Make ``VmHWM`` start again from the current RSS (Linux's ``clear_refs`` 5), if allowed."""
    if pid is not None:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


async def start_helper(
    module: str, args: list[str], log: Path, what: str
) -> asyncio.subprocess.Process:
    """``python -m module *args``, once it says ``ready``; stopped if it does not."""
    with log.open("wb") as stderr:
        helper = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    assert helper.stdout is not None
    try:
        line = await asyncio.wait_for(helper.stdout.readline(), HELPER_READY_S)
    except TimeoutError:
        line = b""
    if line.strip() != b"ready":
        await stop_helper(helper)
        raise BenchError(f"phase 4: {what} did not start; see {log}")
    return helper


async def stop_helper(helper: asyncio.subprocess.Process) -> dict[str, Any] | None:
    """Tell a helper to stop (its stdin ends); what it reports, or None. It is gone after."""
    try:
        if helper.stdin is not None:
            helper.stdin.close()
        assert helper.stdout is not None
        line = await asyncio.wait_for(helper.stdout.readline(), HELPER_REPORT_S)
        await asyncio.wait_for(helper.wait(), HELPER_REPORT_S)
        return json.loads(line) if line.strip() else None
    except (TimeoutError, ValueError):
        return None
    finally:
        if helper.returncode is None:
            helper.kill()
            await helper.wait()


async def give_history(
    ws_url: str,
    attacker: GoldenPathUser,
    failures: Failures,
    progress: Progress,
) -> None:
    """``ATTACKER_RUNS`` runs of ``attacker``, one at a time: the history its slow reader's
    ``resume`` from 0 asks the server to replay."""
    tracked, errors = await open_sockets(ws_url, [attacker])
    try:
        if errors:
            raise BenchError(f"phase 4: the attacker's socket did not open: {errors[0]}")
        progress.begin("phase 4, the attacker's history", ATTACKER_RUNS)
        await serial_runs(tracked[0], ATTACKER_RUNS, failures, progress)
    finally:
        progress.end()
        await close_sockets(tracked)


async def phase_abuse(
    api: GoldenPathHTTP,
    base_url: str,
    ws_url: str,
    people: list[GoldenPathUser],
    attacker: GoldenPathUser,
    rate: float,
    messages_each: int,
    progress: Progress,
    failures: Failures,
    server_pid: int | None,
    log_dir: Path,
) -> AbuseResult:
    """The open loop of ``people`` at ``rate``: plain, beside one busy core, then with the
    abuser's slow reader (a socket of ``attacker``, who is not in the loop) and flood."""

    async def loop() -> LatencyResult:
        return await phase_latency(
            api, ws_url, people, rate, messages_each, 0, progress, failures, CpuMeter(server_pid)
        )

    async def beside(module: str, args: list[str], what: str) -> tuple[LatencyResult, Any]:
        """The loop while ``python -m module`` runs, and what that helper reported."""
        log = log_dir / f"{module.rsplit('.', 1)[-1]}.log"
        helper = await start_helper(module, args, log, what)
        try:
            result = await loop()
        finally:
            report = await stop_helper(helper)
        if report is None:
            raise BenchError(f"phase 4: {what} did not report; see {log}")
        return result, report

    say(f"phase 4: {ATTACKER_RUNS} runs by the attacker, a history for its slow reader")
    await give_history(ws_url, attacker, failures, progress)
    plain = await loop()
    say("phase 4: the same loop beside one busy core (a process at nice 10)")
    neighboured, spent = await beside("bench.load.neighbour", [], "the busy core")
    say(
        f"phase 4: starting the abuser (a slow reader, {FLOOD_RATE:g} logins/s from "
        f"{FLOOD_ADDRESSES} addresses)"
    )
    reset_peak_memory(server_pid)
    rss_before = memory_mb(server_pid, "VmRSS")
    abused, report = await beside(
        "bench.load.abuser",
        [
            f"--base-url={base_url}",
            f"--token={attacker.access_token}",
            f"--email={attacker.email}",
            f"--flood-rate={FLOOD_RATE}",
            f"--flood-addresses={FLOOD_ADDRESSES}",
        ],
        "the abuser",
    )
    return AbuseResult(
        plain=plain,
        neighboured=neighboured,
        abused=abused,
        neighbour_cpu_s=float(spent["cpu_s"]),
        slow_reader=report["slow_reader"],
        logins_sent=report["logins"]["sent"],
        flood_seconds=float(report["logins"]["seconds"]),
        logins=Counter(report["logins"]["answers"]),
        rss_before_mb=rss_before,
        peak_rss_mb=memory_mb(server_pid, "VmHWM"),
    )
