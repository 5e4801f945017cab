"""Which events a connection still owes its client: the rule behind "no gap, no duplicate".

A connection has sent its client exactly the user's events with ``low < seq <= high``
(at connect both are the user's newest ``seq``). A live event inside that range is
a duplicate and is dropped; one past ``high + 1`` means events were missed, and
the gap is read back from the database first. ``resume(after_seq)`` widens the
range downwards, sending only what the client has not had, in order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeqRange:
    """Events with ``after < seq <= upto`` (``upto`` None: everything after)."""

    after: int
    upto: int | None


@dataclass(frozen=True, slots=True)
class LiveDecision:
    """Whether to send a live event, and which missed events to send before it."""

    deliver: bool
    fill_first: SeqRange | None = None


@dataclass
class DeliveryWindow:
    low: int
    high: int

    @classmethod
    def at(cls, last_seq: int) -> DeliveryWindow:
        return cls(low=last_seq, high=last_seq)

    def live(self, seq: int) -> LiveDecision:
        """What to do with a live event numbered ``seq``."""
        if seq <= self.high:
            return LiveDecision(deliver=False)
        if seq == self.high + 1:
            return LiveDecision(deliver=True)
        return LiveDecision(deliver=True, fill_first=SeqRange(after=self.high, upto=seq - 1))

    def sent(self, seq: int) -> None:
        self.high = max(self.high, seq)

    def resume(self, after_seq: int) -> list[SeqRange]:
        """The ranges to send (in order) for ``resume(after_seq)``; updates the window."""
        if after_seq >= self.high:
            self.low = self.high = after_seq
            return [SeqRange(after=after_seq, upto=None)]
        ranges: list[SeqRange] = []
        if after_seq < self.low:
            ranges.append(SeqRange(after=after_seq, upto=self.low))
            self.low = after_seq
        ranges.append(SeqRange(after=self.high, upto=None))
        return ranges
