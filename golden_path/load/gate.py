"""The CI gate of a load run: its JSON summary and its verdict, from Locust's merged figures.

The master (``locustfile``) reads Locust's statistics, merged from every worker by Locust,
into a :class:`Summary`; :func:`verdict` says why the run fails, if it does: any contract
violation, a failure ratio above the limit, a p99 above the limit, or no completed run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Locust's request_type and names for what the simulated users report (one place).
RUN = "golden path run"
FIRST_EVENT = "time to first event"
LARGEST_GAP = "largest gap between events"
CONTRACT = "contract"  # request_type of a violation; its name is the rule
DROPPED_RUN = "dropped run, finished by the server"  # --mix drop (golden_path.load.scenarios)
SLOW_RUN = "slow reader run"  # --mix slow
SCENARIO_ROWS = {"drop": DROPPED_RUN, "slow": SLOW_RUN}
SIGN_IN = "sign in"
PROTOCOL = "protocol"


@dataclass
class WorkerCount:
    """What one worker reported of its own runs (its Locust client id is the key)."""

    runs: int = 0
    resumed: int = 0


@dataclass
class Summary:
    """A load run as the JSON summary says it (``summary.json`` in ``--out``)."""

    url: str
    protocol: str
    users: int
    runs: int
    completed: int
    runs_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    first_event_p50_ms: float | None
    first_event_p99_ms: float | None
    largest_gap_max_ms: float | None
    requests: int
    failures: int
    fail_ratio: float
    violations: dict[str, int] = field(default_factory=dict)
    workers: dict[str, WorkerCount] = field(default_factory=dict)
    max_fail_ratio: float = 0.0
    max_p99_ms: float | None = None
    reasons: list[str] = field(default_factory=list)
    # From the moment every user had signed in to the stop (None when that never came):
    # its length, the runs/s over it and the workers' CPU over it (100 = one core).
    steady_s: float | None = None
    steady_runs_per_s: float | None = None
    steady_workers_cpu: float | None = None
    # The other scenarios of --mix (drop, slow): their runs and failures, by scenario.
    scenarios: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def resumed(self) -> int:
        return sum(w.resumed for w in self.workers.values())

    @property
    def passed(self) -> bool:
        return not self.reasons

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["resumed"] = self.resumed
        data["passed"] = self.passed
        return data

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")


def verdict(summary: Summary) -> list[str]:
    """Every reason the run fails the gate, one line each; empty when it passes."""
    reasons = [
        f"contract violation {rule}: {count} time{'s' if count != 1 else ''}"
        for rule, count in sorted(summary.violations.items())
    ]
    if summary.fail_ratio > summary.max_fail_ratio:
        reasons.append(
            f"failure ratio {summary.fail_ratio:.3f} above --max-fail-ratio "
            f"{summary.max_fail_ratio:g} ({summary.failures} of {summary.requests} requests)"
        )
    if summary.max_p99_ms is not None and (summary.p99_ms or 0.0) > summary.max_p99_ms:
        reasons.append(
            f"p99 of a run {summary.p99_ms:.0f} ms above --max-p99-ms {summary.max_p99_ms:g}"
        )
    others = sum(s.get("runs", 0) - s.get("failures", 0) for s in summary.scenarios.values())
    if summary.completed == 0 and others == 0:
        reasons.append("no run completed")
    return reasons


def headline(summary: Summary) -> str:
    """The run in one line, as the command prints it at the end."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    return (
        f"{summary.runs} runs ({summary.runs_per_s:.1f}/s, {summary.resumed} resumed) from "
        f"{len(summary.workers)} workers: p50 {ms(summary.p50_ms)}, p99 {ms(summary.p99_ms)}, "
        f"first event p50 {ms(summary.first_event_p50_ms)}, largest gap "
        f"{ms(summary.largest_gap_max_ms)}; {summary.failures} failures, "
        f"{sum(summary.violations.values())} contract violations"
        + "".join(
            f"; {name} runs {counts.get('runs', 0)} ({counts.get('failures', 0)} failed)"
            for name, counts in sorted(summary.scenarios.items())
        )
    )
