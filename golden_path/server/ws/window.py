"""Which events a connection still owes its client: the rule behind "no gap, no duplicate".

Since it connected (or last resumed), a connection has sent its client exactly the
user's events with ``low < seq <= high``, in order (at connect both are the user's
newest ``seq``). A live event inside that range is a duplicate and is dropped; one
past ``high + 1`` means events were missed, and the gap is read back from the
database first. ``resume(after_seq)`` starts the stream again from ``after_seq``:
every later event, in order, then live, each once. (Events that went out live just
before the resume was read come again in it: the client said it had not seen them.)
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
        self.low = self.high = after_seq
        return [SeqRange(after=after_seq, upto=None)]
