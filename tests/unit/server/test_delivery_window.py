"""``DeliveryWindow``: the rule behind "no gap, no duplicate" on one connection."""

from __future__ import annotations

import pytest
from hypothesis import settings
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
    ("low", "high", "after"),
    [(5, 10, 10), (5, 10, 11), (5, 10, 99), (0, 0, 0), (5, 10, 7), (5, 10, 2), (8, 8, 3)],
)
def test_resume_restarts_the_stream_right_after_the_clients_point(
    low: int, high: int, after: int
) -> None:
    window = DeliveryWindow(low=low, high=high)
    assert window.resume(after) == [SeqRange(after=after, upto=None)]
    assert (window.low, window.high) == (after, after)


def test_after_a_resume_live_events_continue_from_the_backlogs_end() -> None:
    window = DeliveryWindow(low=5, high=10)
    window.resume(2)
    for seq in range(3, 11):  # the backlog the connection reads and sends
        window.sent(seq)
    assert window.live(10) == LiveDecision(deliver=False)
    assert window.live(11) == LiveDecision(deliver=True)


def test_a_second_resume_starts_over_from_its_own_point() -> None:
    window = DeliveryWindow(low=5, high=10)
    window.resume(3)
    assert window.resume(1) == [SeqRange(after=1, upto=None)]
    assert (window.low, window.high) == (1, 1)


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
        # What was sent since the stream (re)started, and where it started.
        self.epoch_start = newest
        self.epoch: list[int] = []

    def _send(self, seq: int) -> None:
        assert 1 <= seq <= self.database, f"sent {seq}, which the database does not hold"
        self.received.append(seq)
        self.epoch.append(seq)
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
        point = self._contiguous()
        self.epoch_start, self.epoch = point, []
        for r in self.window.resume(point):
            self._send_range(r)

    @invariant()
    def since_the_last_resume_every_event_once_in_order_with_no_gap(self) -> None:
        expected = list(range(self.epoch_start + 1, self.epoch_start + 1 + len(self.epoch)))
        assert self.epoch == expected, (self.epoch_start, self.epoch)

    @invariant()
    def nothing_the_client_already_had_before(self) -> None:
        assert all(seq > self.known_before for seq in self.received)

    @invariant()
    def high_is_the_newest_sent_since_the_last_resume(self) -> None:
        assert self.window.high == (self.epoch[-1] if self.epoch else self.epoch_start)

    def teardown(self) -> None:
        if not hasattr(self, "window"):
            return
        self.resume()  # the client's final resume: now it holds every event
        assert set(self.received) == set(range(self.known_before + 1, self.database + 1))


ConnectionModel.TestCase.settings = settings(max_examples=100, stateful_step_count=30)
TestConnectionModel = ConnectionModel.TestCase
