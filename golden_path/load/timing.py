"""A run's events as they arrived, and the figures read from them.

Every figure is from the moment the client sent its message (``sent``, ``perf_counter``):
the time to the first event, the time to the completed run, and the largest gap between
two consecutive events (the first one counting from the send).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from golden_path.testing.violation import Violation

MAX_EVENTS = 10_000  # more in one run is a server that never ends it: the run fails


class TooManyEvents(ValueError):
    """A run sent more than :data:`MAX_EVENTS` events (memory stays bounded)."""


@dataclass
class Arrivals:
    """Events in arrival order, each with its arrival time (``perf_counter`` seconds)."""

    sent: float = field(default_factory=time.perf_counter)
    events: list[Mapping[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def add(self, event: Mapping[str, Any], at: float | None = None) -> None:
        if len(self.events) >= MAX_EVENTS:
            raise TooManyEvents(f"the run sent more than {MAX_EVENTS} events")
        self.events.append(event)
        self.times.append(time.perf_counter() if at is None else at)

    @property
    def first_event_ms(self) -> float | None:
        return (self.times[0] - self.sent) * 1000 if self.times else None

    @property
    def last_event_ms(self) -> float | None:
        return (self.times[-1] - self.sent) * 1000 if self.times else None

    @property
    def largest_gap_ms(self) -> float | None:
        if not self.times:
            return None
        moments = [self.sent, *self.times]
        return max(b - a for a, b in itertools.pairwise(moments)) * 1000


@dataclass
class RunOutcome:
    """One golden-path run as a simulated user saw it, with its contract check.

    ``completed``: the run ended in the protocol's successful terminal event.
    ``resumed``: the connection was dropped mid-run and the rest read after a resume.
    ``error``: why the run did not end (a refusal, a time-out, a closed connection).
    """

    arrivals: Arrivals
    violations: list[Violation]
    completed: bool
    resumed: bool = False
    error: str | None = None

    @property
    def errors(self) -> list[Violation]:
        """The violations that break a MUST (AG-UI's warnings are left out)."""
        return [v for v in self.violations if v.severity == "error"]
