"""``DeliveryWindow``: the rule behind "no gap, no duplicate" on one connection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from golden_path.server.ws.window import DeliveryWindow, LiveDecision, SeqRange

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="after a dropped connection or a lost pub/sub message the client sees "
        "every event of its run exactly once and in order",
        revenue_impact="a missing tool result or a doubled answer on reconnect is the visible "
        "'the AI broke' moment that makes trial users leave",
    ),
]


def test_at_starts_with_an_empty_window() -> None:
    window = DeliveryWindow.at(7)
    assert (window.low, window.high) == (7, 7)


# --- live events ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", [0, 1, 41])
def test_the_next_live_event_is_delivered(start: int) -> None:
    window = DeliveryWindow.at(start)
    assert window.live(start + 1) == LiveDecision(deliver=True, fill_first=None)


def test_live_events_in_order_are_all_delivered() -> None:
    window = DeliveryWindow.at(0)
    for seq in range(1, 20):
        assert window.live(seq) == LiveDecision(deliver=True)
        window.sent(seq)
    assert (window.low, window.high) == (0, 19)


@pytest.mark.parametrize("seq", [-1, 0, 1, 5, 10])
def test_a_duplicate_or_older_event_is_dropped(seq: int) -> None:
    window = DeliveryWindow(low=0, high=10)
    assert window.live(seq) == LiveDecision(deliver=False)


def test_an_event_just_sent_is_dropped_when_it_arrives_again() -> None:
    window = DeliveryWindow.at(3)
    assert window.live(4).deliver
    window.sent(4)
    assert window.live(4) == LiveDecision(deliver=False)


@pytest.mark.parametrize(("high", "seq"), [(0, 2), (0, 100), (10, 12), (10, 15)])
def test_a_gap_is_filled_first(high: int, seq: int) -> None:
    window = DeliveryWindow(low=high, high=high)
    assert window.live(seq) == LiveDecision(
        deliver=True, fill_first=SeqRange(after=high, upto=seq - 1)
    )


def test_live_does_not_move_the_window() -> None:
    window = DeliveryWindow(low=2, high=5)
    window.live(9)
    assert (window.low, window.high) == (2, 5)


@pytest.mark.parametrize(("high", "seq", "expected"), [(5, 3, 5), (5, 5, 5), (5, 6, 6), (5, 9, 9)])
def test_sent_only_raises_high(high: int, seq: int, expected: int) -> None:
    window = DeliveryWindow(low=1, high=high)
    window.sent(seq)
    assert (window.low, window.high) == (1, expected)


# --- resume ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "after"), [(5, 10, 10), (5, 10, 11), (5, 10, 99), (0, 0, 0)]
)
def test_resume_at_or_beyond_high_sends_everything_after(low: int, high: int, after: int) -> None:
    window = DeliveryWindow(low=low, high=high)
    assert window.resume(after) == [SeqRange(after=after, upto=None)]
    assert (window.low, window.high) == (after, after)


@pytest.mark.parametrize("after", [5, 7, 9])
def test_resume_inside_the_window_sends_only_what_is_newer(after: int) -> None:
    window = DeliveryWindow(low=5, high=10)
    assert window.resume(after) == [SeqRange(after=10, upto=None)]
    assert (window.low, window.high) == (5, 10)


@pytest.mark.parametrize("after", [0, 2, 4])
def test_resume_below_the_window_widens_it_downwards(after: int) -> None:
    window = DeliveryWindow(low=5, high=10)
    assert window.resume(after) == [
        SeqRange(after=after, upto=5),
        SeqRange(after=10, upto=None),
    ]
    assert (window.low, window.high) == (after, 10)


def test_resume_below_an_empty_window() -> None:
    window = DeliveryWindow.at(8)
    assert window.resume(3) == [SeqRange(after=3, upto=8), SeqRange(after=8, upto=None)]
    assert (window.low, window.high) == (3, 8)


def test_a_second_resume_below_the_new_low_sends_only_the_older_part() -> None:
    window = DeliveryWindow(low=5, high=10)
    window.resume(3)
    assert window.resume(1) == [SeqRange(after=1, upto=3), SeqRange(after=10, upto=None)]
    assert window.low == 1


def test_ranges_are_in_ascending_order() -> None:
    window = DeliveryWindow(low=50, high=60)
    ranges = window.resume(10)
    assert ranges[0].upto is not None
    assert ranges[0].after < ranges[0].upto <= ranges[1].after


@given(
    low=st.integers(0, 100),
    width=st.integers(0, 100),
    after=st.integers(0, 300),
)
def test_resume_ranges_cover_exactly_what_the_client_lacks(
    low: int, width: int, after: int
) -> None:
    """Sent before: (low, high]; the client says it has (0, after]. Owed: everything else."""
    high = low + width
    ceiling = 400  # the newest seq in the database when the ranges are read
    window = DeliveryWindow(low=low, high=high)
    already = set(range(low + 1, high + 1))
    ranges = window.resume(after)
    sent: list[int] = []
    for r in ranges:
        sent.extend(range(r.after + 1, (r.upto if r.upto is not None else ceiling) + 1))
    assert sent == sorted(sent), "in order"
    assert len(sent) == len(set(sent)), "no duplicate within the resume"
    owed = set(range(after + 1, ceiling + 1)) - already
    assert set(sent) == owed


# --- the whole stream, against a model ------------------------------------------------------


class ConnectionModel(RuleBasedStateMachine):
    """One connection: the database appends events, the bus delivers them late, twice or
    never, and the client (who had ``(0, known]`` before connecting) resumes honestly."""

    @initialize(newest=st.integers(0, 15), known_fraction=st.floats(0, 1))
    def connect(self, newest: int, known_fraction: float) -> None:
        self.database = newest
        self.known_before = int(newest * known_fraction)
        self.window = DeliveryWindow.at(newest)
        self.received: list[int] = []

    def _send(self, seq: int) -> None:
        assert 1 <= seq <= self.database, f"sent {seq}, which the database does not hold"
        self.received.append(seq)
        self.window.sent(seq)

    def _send_range(self, r: SeqRange) -> None:
        upto = self.database if r.upto is None else r.upto
        for seq in range(r.after + 1, upto + 1):
            self._send(seq)

    def _contiguous(self) -> int:
        have = set(self.received) | set(range(1, self.known_before + 1))
        n = 0
        while n + 1 in have:
            n += 1
        return n

    @rule(count=st.integers(1, 4))
    def publish(self, count: int) -> None:
        self.database += count

    @precondition(lambda self: self.database > 0)
    @rule(data=st.data())
    def live(self, data: st.DataObject) -> None:
        seq = data.draw(st.integers(1, self.database), label="live seq")
        decision = self.window.live(seq)
        if decision.fill_first is not None:
            assert decision.fill_first.upto == seq - 1
            self._send_range(decision.fill_first)
        if decision.deliver:
            self._send(seq)

    @rule()
    def resume(self) -> None:
        for r in self.window.resume(self._contiguous()):
            self._send_range(r)

    @invariant()
    def never_a_duplicate(self) -> None:
        assert len(self.received) == len(set(self.received)), self.received

    @invariant()
    def nothing_the_client_already_had_before(self) -> None:
        assert all(seq > self.known_before for seq in self.received)

    @invariant()
    def high_is_the_newest_sent(self) -> None:
        assert self.window.high == max(self.received, default=self.window.high)
        assert self.window.low <= self.window.high

    @invariant()
    def no_gap_up_to_the_newest_live_event(self) -> None:
        """Whatever the connection sent, everything between it and the client's first resume
        point is there too (live events never skip over a missing one)."""
        if not self.received:
            return
        have = set(self.received)
        newest = max(self.received)
        assert set(range(self.window.high + 1, newest + 1)) == set()
        above_low = set(range(self.window.low + 1, newest + 1))
        assert above_low <= have | set(range(1, self.known_before + 1)), sorted(above_low - have)

    def teardown(self) -> None:
        if not hasattr(self, "window"):
            return
        self.resume()  # the client's final resume: now it holds every event exactly once
        have = sorted(self.received)
        assert have == list(range(self.known_before + 1, self.database + 1))


ConnectionModel.TestCase.settings = settings(max_examples=100, stateful_step_count=30)
TestConnectionModel = ConnectionModel.TestCase
