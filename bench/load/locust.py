"""Closed-loop load from Locust's users: ``golden-path load`` as a process, its summary read.

The phases that are closed loops at a given number of users (1b, saturation; 2,
throughput) run on the project's Locust users (``golden_path.load``) rather than on a
generator of the benchmark's own: ``golden-path load --users N --spawn-rate 5
--workers W --resume-share 0 --out DIR``, a Locust master and W workers, each user with
one run in flight (the next message as soon as its run ends), every run checked by the
contract checker. Its ``summary.json`` gives the runs, their p50/p99, the failures and
the contract violations (both are counted as failed runs here).

The generator's own CPU is measured beside the server's, so a saturated generator is
seen and not mistaken for a slow server: the command and every process it started
(Locust's master and workers), summed from ``getrusage(RUSAGE_CHILDREN)`` once the
command has reaped them, over the command's whole life (Locust's start and its users'
signups included); and Locust's own figure for its workers over the steady part (from
every user signed in to the stop).

The users sign up from 127.0.0.1: a server started by the benchmark exempts that address
(only that one) from the signup and login throttles; a server given with ``--url`` must
do so too (``GOLDEN_PATH_THROTTLE_EXEMPT``).
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load.cpu import GENERATOR, GENERATORS, OTHERS, OTHERS_NO_SERVER, CpuMeter
from bench.load.processes import signals_held
from bench.load.progress import say
from bench.load.runs import Failures
from bench.load.settings import (
    LOCUST_SPAWN_RATE,
    LOCUST_WORKERS,
    ROOT,
    SIGNUP_MARGIN_S,
    STOP_TIMEOUT_S,
    BenchError,
)

GOLDEN_PATH = Path(sys.executable).with_name("golden-path")
GENERATOR_LOCUST = f"{GENERATORS} (Locust: master + {LOCUST_WORKERS} workers)"


@dataclass
class LocustRun:
    """One ``golden-path load``: its users, its summary, and the CPU over its life."""

    users: int
    summary: dict[str, Any]
    cpu: CpuMeter

    @property
    def completed(self) -> int:
        return int(self.summary["completed"])

    @property
    def runs_per_s(self) -> float:
        """Locust's rate from every user signed in to the stop, else over the whole run."""
        steady = self.summary.get("steady_runs_per_s")
        return float(steady if steady is not None else self.summary["runs_per_s"])

    @property
    def p50_ms(self) -> float:
        return _ms(self.summary.get("p50_ms"))

    @property
    def p99_ms(self) -> float:
        return _ms(self.summary.get("p99_ms"))

    @property
    def steady_workers_cpu(self) -> float | None:
        value = self.summary.get("steady_workers_cpu")
        return None if value is None else float(value)


def _ms(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def run_time(users: int, seconds: int) -> int:
    """Locust's --run-time for ``seconds`` of load after ``users`` have started and signed in."""
    return seconds + math.ceil(users / LOCUST_SPAWN_RATE) + SIGNUP_MARGIN_S


def command(url: str, users: int, seconds: int, out: Path) -> list[str]:
    return [
        str(GOLDEN_PATH), "load", "--url", url, "--users", str(users),
        "--spawn-rate", str(LOCUST_SPAWN_RATE), "--run-time", f"{seconds}s",
        "--workers", str(LOCUST_WORKERS), "--resume-share", "0", "--mix", "golden=1",
        "--max-fail-ratio", "1", "--out", str(out),
    ]  # fmt: skip


def _wait(process: subprocess.Popen[bytes]) -> int:
    """The command's exit status; on Ctrl-C/SIGTERM it is stopped (it stops Locust) first."""
    try:
        return process.wait()
    except BaseException:
        with signals_held():
            process.terminate()  # SIGTERM: the command stops its master and workers
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        raise


def run_locust(
    url: str, users: int, seconds: int, out: Path, server_pid: int | None, failures: Failures
) -> LocustRun:
    """``users`` Locust users against ``url`` for ``seconds`` past their signups; their failed
    runs and contract violations go to ``failures``."""
    cpu = CpuMeter(server_pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.start()
    began = time.perf_counter()
    # stdout too goes to our stderr: stdout is for the table.
    process = subprocess.Popen(
        command(url, users, run_time(users, seconds), out),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr,
    )
    code = _wait(process)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchError(
            f"golden-path load exited {code} without a summary ({exc}); see {out}"
        ) from exc
    cpu.stop(int(summary["completed"]))
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    add_generator(cpu, 100 * used / wall if wall > 0 else 0.0)
    failed = int(summary["failures"])
    if failed:
        failures.record(f"golden-path load, {users} users: {_failed(out)}; see {out}", failed)
    for rule, count in summary["violations"].items():
        failures.record(f"golden-path load: contract violation {rule}", int(count))
    say(
        f"golden-path load: {users} users, {summary['completed']} runs completed, "
        f"{LOCUST_WORKERS} workers, exit {code}"
    )
    return LocustRun(users, summary, cpu)


def _failed(out: Path) -> str:
    """Which of Locust's rows failed, and how often (from its ``locust.json``)."""
    try:
        rows = json.loads((out / "locust.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "failed requests"
    return ", ".join(
        f"{row['name']} failed {row['num_failures']} of {row['num_requests']}"
        for row in rows
        if row.get("num_failures")
    )


def add_generator(cpu: CpuMeter, share: float) -> None:
    """Count Locust's processes as the generator (they are not the server's descendants, so
    the meter saw them among the other processes of the machine), this process (which only
    waits for them) with them."""
    cpu.shares[GENERATOR_LOCUST] = share + cpu.shares.pop(GENERATOR, 0.0)
    for name in (OTHERS, OTHERS_NO_SERVER):
        if name in cpu.shares:
            cpu.shares[name] = max(0.0, cpu.shares[name] - share)
