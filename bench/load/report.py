"""What one benchmark run measured, phase by phase, and whether it was correct."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.load.abuse import AbuseResult
from bench.load.connections import ConnectionsResult
from bench.load.delivery import Delivery
from bench.load.latency import LatencyResult
from bench.load.runs import Failures
from bench.load.saturation import SaturationResult
from bench.load.throughput import ThroughputResult
from bench.load.writes import WritesResult


@dataclass
class Report:
    """Every phase's result (``None``: it did not run), the floor, and the failed runs."""

    url: str
    started_server: bool
    code: str = ""
    latency: LatencyResult | None = None
    saturation: SaturationResult | None = None
    throughput: ThroughputResult | None = None
    connections: ConnectionsResult | None = None
    abuse: AbuseResult | None = None
    echo_ms: list[float] = field(default_factory=list)
    writes: WritesResult | None = None
    failures: Failures = field(default_factory=Failures)

    def delivery(self) -> Delivery:
        """The delivery counts of every phase this process ran, summed (Locust's phases, 1b
        and 2, check every run with the contract checker instead: see ``failures``)."""
        total = Delivery()
        for phase in (self.latency, self.connections):
            if phase is not None:
                total.add(phase.delivery)
        if self.abuse is not None:
            total.add(self.abuse.plain.delivery)
            total.add(self.abuse.neighboured.delivery)
            total.add(self.abuse.abused.delivery)
        return total

    def correct(self) -> bool:
        """Nothing lost, duplicated or misdelivered, and no run failed."""
        d = self.delivery()
        return d.lost == d.duplicated == d.misdelivered == self.failures.count == 0
