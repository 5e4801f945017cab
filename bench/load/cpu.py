"""CPU used over a phase, from /proc: by the server, its PostgreSQL and Redis, us, the rest.

100% is one core. A figure taken on a busy machine shows as such ("other processes"), and
the server's CPU per run is robust to it: 1000 / it is the most runs/s one core can give.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SERVER = "server (python)"
SERVER_KERNEL = "server, in the kernel"
GENERATORS = "load generator"  # every generator's name starts so; it is always shown
GENERATOR = f"{GENERATORS} (this process)"
OTHERS = "other processes"
OTHERS_NO_SERVER = "the server and other processes"  # a server given with --url


def cpu_by_name(root_pid: int) -> dict[str, float]:
    """CPU seconds used so far by ``root_pid`` and its descendants, summed by command name
    (a descendant's own and that of its children it reaped)."""
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
        used = int(fields[11]) + int(fields[12])
        if int(entry) != root_pid:
            # and its children that ended and were reaped (a PostgreSQL backend whose
            # connection closed): without them its kind's total would drop when one ends
            used += int(fields[13]) + int(fields[14])
        stats[int(entry)] = (name, used / ticks)
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
            label = SERVER if pid == root_pid else name.split(":")[0]
            totals[label] += seconds
    totals[GENERATOR] = time.process_time()
    totals[SERVER_KERNEL] = kernel
    return dict(totals)


def machine_busy() -> float:
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
            ours = {GENERATOR: time.process_time()}
        else:
            ours = cpu_by_name(self.server_pid)
        # Whatever else runs on the machine meanwhile (it competes for the same cores).
        mine = sum(v for k, v in ours.items() if k != SERVER_KERNEL)
        others = OTHERS if self.server_pid else OTHERS_NO_SERVER
        ours[others] = machine_busy() - mine
        return ours

    def per_run_ms(self, name: str) -> float:
        """CPU milliseconds ``name`` spent per completed run (NaN if unknown)."""
        if name not in self.shares or not self.runs:
            return math.nan
        return self.shares[name] / 100 * self.wall * 1000 / self.runs

    def generator(self) -> str:
        """The load generator's name here (this process, or Locust's processes)."""
        return next((k for k in self.shares if k.startswith(GENERATORS)), GENERATOR)

    def cost(self) -> str:
        """CPU per run of the server, its PostgreSQL and the generator: robust to a busy
        machine, and a generator that costs more per run than the server is seen."""
        server, postgres = self.per_run_ms(SERVER), self.per_run_ms("postgres")
        generator = self.per_run_ms(self.generator())
        if math.isnan(server):
            return ""
        return (
            f"CPU per run: server {server:.2f} ms (so at most {1000 / server:.0f} runs/s "
            f"on one core), postgres {postgres:.2f} ms, load generator {generator:.2f} ms"
        )

    def summary(self) -> str:
        kernel = self.shares.get(SERVER_KERNEL)
        ordered = sorted(self.shares.items(), key=lambda kv: -kv[1])
        parts = []
        for name, share in ordered:
            if name == SERVER_KERNEL or (share < 0.5 and not name.startswith(GENERATORS)):
                continue
            inside = f" (kernel {kernel:.0f}%)" if name == SERVER and kernel is not None else ""
            parts.append(f"{name} {share:.0f}%{inside}")
        return ", ".join(parts)
