"""The scenarios of ``golden-path load --mix`` without a server: the mix read from the
command line (bad input named), a dropped run left for good and judged by the server's
history, and a slow reader whose socket the server closes resuming as §6.2 says."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
import websocket

from golden_path.cli import build_parser
from golden_path.load import command, scenarios
from golden_path.load.scenarios import MixError, follow_abandoned, parse_mix, pick
from golden_path.load.v1_run import ABANDONED, V1Connection
from tests.unit.load.test_v1_resume import SENT, Scripted, run_events

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's load test mixes vanishing and slow users in the weights it "
        "asks for, and a run the server lost is named, not counted as a pass",
        revenue_impact="a server that loses a run when its customer's network drops loses "
        "what the customer paid for",
    ),
]


def test_a_mix_reads_as_weights_by_scenario() -> None:
    assert parse_mix("golden=8, drop=1,slow=1") == {"golden": 8, "drop": 1, "slow": 1}
    assert parse_mix(scenarios.DEFAULT_MIX) == {"golden": 1}


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        ("golden", "expected name=weight pairs"),
        ("golden=8,fast=1", "unknown scenario 'fast'; known: golden, drop, slow"),
        ("golden=x", "golden='x' is not a whole number"),
        ("golden=-1,drop=1", "golden=-1 is below 0"),
        ("golden=0,drop=0", "at least one scenario needs a weight above 0"),
        ("drop=1,drop=2", "drop is named twice"),
        ("", "expected name=weight pairs"),
    ],
)
def test_a_bad_mix_is_a_clear_error(mix: str, message: str) -> None:
    with pytest.raises(MixError, match=message):
        parse_mix(mix)


def test_a_bad_mix_stops_the_command_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["load", "--url", "http://127.0.0.1:9", "--mix", "drop=x"])
    assert command.run_load(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["golden-path load: --mix: drop='x' is not a whole number"]


def test_the_mix_reaches_every_locust_process(tmp_path: Any) -> None:
    args = build_parser().parse_args(
        ["load", "--url", "http://x:1", "--mix", "golden=3,slow=1", "--slow-read-ms", "50"]
    )
    line = command.master_command(args, 1, tmp_path)
    assert line[line.index("--gp-mix") + 1] == "golden=3,slow=1"
    assert line[line.index("--gp-slow-read-ms") + 1] == "50.0"


def test_runs_are_drawn_by_weight_and_a_weight_of_zero_never_runs() -> None:
    rng = random.Random(25)
    drawn = Counter(pick({"golden": 8, "drop": 2, "slow": 0}, rng) for _ in range(2000))
    assert set(drawn) == {"golden", "drop"}
    assert 3 < drawn["golden"] / drawn["drop"] < 5.5  # 4 expected; 2000 draws, a fixed seed


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self.body = status, body

    @property
    def text(self) -> str:
        return str(self.body)

    def json(self) -> Any:
        return self.body


def abandoned() -> Any:
    """A v1 run dropped after two events, for good."""
    script = [[1, 2, 3, 4, 5]]
    sockets = iter(script)

    def connect(url: str, **options: Any) -> Scripted:
        return Scripted(iter([next(sockets)]))

    connection = V1Connection("ws://x/ws", "token", connect)
    return connection.run("hello", drop_after=2, timeout=5, abandon=True)


def test_a_dropped_run_is_left_for_good_after_two_events() -> None:
    SENT.clear()
    live = abandoned()
    assert live.error == ABANDONED
    assert not live.completed
    assert not live.resumed
    assert [e["seq"] for e in live.arrivals.events] == [1, 2]
    assert live.violations == []  # an unfinished run is no violation yet
    assert [f["type"] for f in SENT] == ["user_message"]  # no resume was sent


def history(*answers: Answer) -> tuple[Any, list[str]]:
    asked: list[str] = []
    queue = list(answers)

    def get(path: str) -> Answer:
        asked.append(path)
        return queue.pop(0)

    return get, asked


def test_a_dropped_run_the_server_finished_and_kept_completes() -> None:
    live = abandoned()
    run_id = live.arrivals.events[0]["run_id"]
    get, asked = history(
        Answer(200, {"status": "running", "events": []}),
        Answer(200, {"status": "succeeded", "events": run_events()}),
    )
    outcome = follow_abandoned(get, live, 5, sleep=lambda s: None)
    assert asked == [f"/runs/{run_id}"] * 2
    assert outcome.completed
    assert outcome.violations == []


def test_a_dropped_run_whose_history_is_incomplete_breaks_the_contract() -> None:
    live = abandoned()
    get, _ = history(Answer(200, {"status": "succeeded", "events": run_events()[:3]}))
    outcome = follow_abandoned(get, live, 5, sleep=lambda s: None)
    assert outcome.errors, "an incomplete persisted run passed"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(200, {"status": "interrupted", "error_code": "x"}), "ended interrupted (x)"),
        (Answer(404, {"detail": "not found"}), "answered 404"),
        (Answer(200, {"status": "running"}), "still running after 0 s"),
    ],
    ids=["interrupted", "lost", "never-ends"],
)
def test_a_dropped_run_the_server_did_not_finish_fails(answer: Answer, error: str) -> None:
    live = abandoned()
    get, _ = history(answer)
    outcome = follow_abandoned(get, live, 0, sleep=lambda s: None)
    assert not outcome.completed
    assert outcome.error is not None
    assert error in outcome.error


def test_an_agui_first_event_names_the_run_in_its_metadata() -> None:
    started = {"type": "RUN_STARTED", "metadata": {"golden_path": {"run_id": "run_1"}}}
    assert scenarios.run_id_of(started) == "run_1"
    assert scenarios.run_id_of({"type": "RUN_STARTED"}) is None


class Closing(Scripted):
    """A socket the server closes (a slow consumer, §4.7) once its script is read."""

    def recv(self) -> str:
        if not self.frames:
            raise websocket.WebSocketConnectionClosedException("closed 1013")
        return super().recv()


def test_a_slow_reader_whose_socket_is_closed_resumes_and_gets_everything() -> None:
    SENT.clear()
    sockets = iter([Closing(iter([[1, 2]])), Scripted(iter([[3, 4, 5]]))])
    connection = V1Connection("ws://x/ws", "token", lambda url, **o: next(sockets))
    outcome = connection.run("hello", drop_after=None, timeout=5, read_delay=0.001)
    assert outcome.completed
    assert outcome.violations == []
    assert [e["seq"] for e in outcome.arrivals.events] == [1, 2, 3, 4, 5]
    assert SENT[-1] == {"type": "resume", "after_seq": 2}


def test_a_fast_reader_whose_socket_is_closed_mid_run_fails_the_run() -> None:
    sockets = iter([Closing(iter([[1, 2]]))])
    connection = V1Connection("ws://x/ws", "token", lambda url, **o: next(sockets))
    outcome = connection.run("hello", drop_after=None, timeout=5)
    assert not outcome.completed
    assert outcome.error is not None
    assert "closed the socket mid-run" in outcome.error


def test_the_message_each_user_sends_reaches_the_master_and_an_empty_one_is_refused(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = build_parser().parse_args(["load", "--url", "http://x:1", "--message", "Weather?"])
    line = command.master_command(asked, 1, tmp_path)
    assert line[line.index("--gp-message") + 1] == "Weather?"
    default = build_parser().parse_args(["load", "--url", "http://x:1"])
    line = command.master_command(default, 1, tmp_path)
    assert line[line.index("--gp-message") + 1] == scenarios.MESSAGE
    empty = build_parser().parse_args(["load", "--url", "http://127.0.0.1:9", "--message", " "])
    assert command.run_load(empty) == 2
    assert "--message must say something" in capsys.readouterr().err
