"""Phase 1b, saturation on a closed loop, on Locust: queueing at full load, not what a user sees.

N Locust users (``locust``: ``golden-path load``, a master and its workers), each with
one run in flight: it sends its next message as soon as its run ends, for
``SATURATION_SECONDS`` once every user has signed up. With no pause between messages the
mean latency is N / throughput (Little's law). Locust fits here: a closed loop at a
given number of users is what its users do, and every run is checked by the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.load.locust import LocustRun, run_locust
from bench.load.progress import say
from bench.load.runs import Failures
from bench.load.settings import SATURATION_SECONDS


@dataclass
class SaturationResult:
    """The closed loop as Locust measured it."""

    run: LocustRun

    @property
    def users(self) -> int:
        return self.run.users


def phase_saturation(
    url: str, users: int, out: Path, failures: Failures, server_pid: int | None
) -> SaturationResult:
    """Closed loop: every user sends its next message as soon as its previous run ended."""
    say(f"phase 1b: {users} Locust users, closed loop, {SATURATION_SECONDS} s")
    return SaturationResult(run_locust(url, users, SATURATION_SECONDS, out, server_pid, failures))
