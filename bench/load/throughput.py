"""Phase 2, throughput, on Locust: the most runs per second one server process sustains.

2N/4, 2N/2, 2N and 4N Locust users in turn (``locust``: ``golden-path load``, a master
and its workers), each user one run in flight (its next message as soon as its run
ends) for ``THROUGHPUT_STEP_SECONDS`` past its signups; a step's runs/s is Locust's from
every user signed in to the stop. The best step is the sustained maximum. Each step is a
load of its own, with users of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.load.locust import LocustRun, run_locust
from bench.load.progress import say
from bench.load.runs import Failures
from bench.load.settings import THROUGHPUT_STEP_SECONDS


@dataclass
class ThroughputResult:
    """Every level of runs in flight; the best is the sustained maximum."""

    users: int
    steps: list[LocustRun]

    @property
    def best(self) -> LocustRun | None:
        return max(self.steps, key=lambda s: s.runs_per_s, default=None)


def levels(users: int) -> list[int]:
    """The runs in flight of each step, for ``users`` (2N) users."""
    return sorted({max(1, users // 4), max(1, users // 2), users, 2 * users})


def phase_throughput(
    url: str, users: int, out: Path, failures: Failures, server_pid: int | None
) -> ThroughputResult:
    steps = []
    for number, level in enumerate(levels(users), start=1):
        say(f"phase 2, step {number}: {level} Locust users, {level} runs in flight")
        steps.append(
            run_locust(
                url, level, THROUGHPUT_STEP_SECONDS, out / f"step-{number}", server_pid, failures
            )
        )
    return ThroughputResult(users, steps)
