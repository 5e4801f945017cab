"""A resumed v1 run, read from a scripted socket: the races docs/protocol.md §6.2 allows are
not violations, and a repeated ``seq`` that no race explains is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from golden_path.load.v1_run import V1Connection, run_v1

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a load test that drops and resumes connections reports the server's "
        "broken streams, not the races the protocol allows",
        revenue_impact="false violations under load get the gate switched off",
    ),
]

USER = "usr_" + "a" * 32
REQUEST: dict[str, str] = {}
SENT: list[dict[str, Any]] = []


def event(seq: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "seq": seq,
        "event_id": f"evt_{seq:032x}",
        "user_id": USER,
        "thread_id": "thr_" + "b" * 32,
        "run_id": "run_" + "c" * 32,
        "request_id": REQUEST["id"],
        "agent_name": "spend_optimizer",
        "timestamp": "2026-12-07T10:00:00.000Z",
        **fields,
    }


def run_events() -> list[dict[str, Any]]:
    call = "tc_" + "d" * 32
    return [
        event(1, "agent_started", message_id="msg_" + "e" * 32),
        event(2, "agent_thinking", reasoning="plan", step=1),
        event(3, "tool_executing", tool_call_id=call, tool_name="usage_analyzer", parameters={}),
        event(
            4,
            "tool_completed",
            tool_call_id=call,
            tool_name="usage_analyzer",
            results={},
            success=True,
            duration_ms=1.0,
        ),
        event(
            5,
            "agent_completed",
            final_response="done",
            result={},
            usage={"input_tokens": 1, "output_tokens": 1, "cost_usd": 0.0},
            duration_ms=2.0,
        ),
    ]


class Scripted:
    """A socket that sends ``connection_established``, then its script once a frame is sent."""

    status = 101

    def __init__(self, script: Iterator[list[int]]) -> None:
        self.frames = [json.dumps({"type": "connection_established", "protocol": "golden-path.v1"})]
        self.script = script

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        return websocket.ABNF.OPCODE_TEXT, self.frames.pop(0).encode()

    def send(self, payload: str) -> None:
        frame = json.loads(payload)
        SENT.append(frame)
        if frame["type"] == "user_message":
            REQUEST["id"] = frame["request_id"]
        seqs = next(self.script)
        by_seq = {e["seq"]: e for e in run_events()}
        self.frames += [json.dumps(by_seq[s]) for s in seqs]

    def recv(self) -> str:
        if not self.frames:
            raise AssertionError("the client read past the script")
        return self.frames.pop(0)

    def settimeout(self, timeout: float) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def close(self) -> None:
        pass


def connect_with(*scripts: list[list[int]]) -> Any:
    sockets = iter(scripts)

    def connect(url: str, **options: Any) -> Scripted:
        return Scripted(iter(next(sockets)))

    return connect


@pytest.mark.parametrize(
    "second_socket",
    [
        [3, 4, 5],  # no race
        [4, 3, 4, 5],  # 4 went out live before the resume was read: it comes again
        [3, 3, 4, 5],  # 3 went out live as the stream's first event, and again inside it
    ],
    ids=["plain", "live-ahead-of-the-resume", "live-first-then-again"],
)
def test_a_resumed_run_with_an_allowed_race_has_no_violation(second_socket: list[int]) -> None:
    connect = connect_with([[1, 2]], [second_socket])
    outcome = run_v1("ws://x/ws", "token", "hello", drop_after=2, connect=connect)
    assert outcome.resumed
    assert outcome.completed
    assert outcome.violations == []
    assert [e["seq"] for e in outcome.arrivals.events] == [1, 2, 3, 4, 5]


def test_a_repeated_seq_without_a_resume_is_a_violation() -> None:
    connect = connect_with([[1, 2, 2, 3, 4, 5]])
    outcome = run_v1("ws://x/ws", "token", "hello", connect=connect)
    assert {v.rule for v in outcome.violations} == {"duplicate_event_id", "seq_not_increasing"}


def test_a_later_turn_continues_its_thread_and_a_first_starts_one() -> None:
    SENT.clear()
    connect = connect_with([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]])
    connection = V1Connection("ws://x/ws", "token", connect)
    first = connection.run("hello", drop_after=None, timeout=5)
    thread = first.arrivals.events[0]["thread_id"]
    connection.run("and then?", drop_after=None, timeout=5, thread_id=thread)
    messages = [f for f in SENT if f["type"] == "user_message"]
    assert "thread_id" not in messages[0]
    assert messages[1]["thread_id"] == thread
