"""A team's WebSocket event contract: read from its ini lines, and each rule it checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from golden_path.testing.violation import ContractViolation
from golden_path.testing.ws.contract import (
    RULES,
    WSContract,
    assert_ws_events,
    check_ws_events,
    contract_from_ini,
)

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's own events are judged by the rules it declared: a run that "
        "skips a seq or never ends fails, a correct one passes",
        revenue_impact="a checker that misreads a team's stream fails good releases or passes "
        "broken ones",
    ),
]

TRIP = WSContract(
    first="run.started",
    terminal=("run.done", "run.failed"),
    seq_field="seq",
    stages={"run.started": "plan", "tool.call": "tools", "run.done": "answer"},
)


def stream(*names: str, start: int = 1) -> list[dict[str, Any]]:
    return [{"type": name, "seq": start + n} for n, name in enumerate(names)]


def rules(events: list[Any], **kwargs: Any) -> list[str]:
    return [v.rule for v in check_ws_events(events, TRIP, **kwargs)]


def test_a_good_run_breaks_no_rule_and_shows_its_stages_in_order() -> None:
    events = [{"type": "hello"}, *stream("run.started", "tool.call", "token", "run.done")]
    assert check_ws_events(events, TRIP, stages=["tools"]) == []
    assert TRIP.read_stages(events) == ("plan", "tools", "answer")


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (["text"], ["not_an_object"]),
        (stream("token", "run.done"), ["run_not_started"]),
        (stream("run.started", "run.started", "run.done"), ["run_already_started"]),
        (stream("run.started", "run.done", "tool.call"), ["after_terminal"]),
        (stream("run.started", "token"), ["no_terminal"]),
        ([{"type": "run.started"}, *stream("run.done", start=2)], ["missing_seq"]),
        ([*stream("run.started"), *stream("token", "run.done", start=3)], ["seq_gap"]),
        ([*stream("run.started", "token"), *stream("run.done", start=2)], ["seq_not_increasing"]),
    ],
)
def test_each_rule_names_what_broke_it(events: list[Any], expected: list[str]) -> None:
    assert rules(events) == expected
    assert set(expected) <= set(RULES)


def test_a_stream_still_arriving_may_leave_its_run_open() -> None:
    assert rules(stream("run.started", "token"), require_complete=False) == []


def test_a_stage_the_test_requires_and_the_stream_lacks_is_named() -> None:
    (violation,) = check_ws_events(stream("run.started", "run.done"), TRIP, stages=["tools"])
    assert violation.rule == "missing_stage"
    assert "shows plan, answer but not tools" in violation.message


def test_the_seq_counts_every_frame_that_carries_it_even_a_token_delta() -> None:
    assert rules(stream("run.started", "token", "token", "run.done")) == []


def test_assert_raises_listing_every_violation() -> None:
    with pytest.raises(ContractViolation) as raised:
        assert_ws_events([*stream("run.started"), *stream("token", start=3)], TRIP)
    assert [v.rule for v in raised.value.violations] == ["seq_gap", "no_terminal"]
    assert str(raised.value).count("\n") == 1


def test_the_ini_lines_make_the_contract() -> None:
    contract = contract_from_ini(
        {
            "gp_ws_type_field": "event",
            "gp_ws_first_event": "run.started",
            "gp_ws_terminal_events": ["run.done", "run.failed"],
            "gp_ws_seq_field": "seq",
            "gp_ws_stages": ["run.started = plan", "", "tool.call=tools"],
        },
        known_stages=("plan", "tools", "answer"),
    )
    assert contract == WSContract(
        first="run.started",
        terminal=("run.done", "run.failed"),
        seq_field="seq",
        stages={"run.started": "plan", "tool.call": "tools"},
        type_field="event",
    )
    assert contract.event_name({"event": "tool.call"}) == "tool.call"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gp_ws_stages": ["run.done"]}, "gp_ws_stages line 'run.done': expected event=stage"),
        (
            {"gp_ws_stages": ["run.done=finish"]},
            "gp_ws_stages line 'run.done=finish': 'finish' is not one of gp_stages (plan, tools)",
        ),
        (
            {"gp_ws_first_event": "go", "gp_ws_terminal_events": ["go"]},
            "gp_ws_first_event = 'go' is also one of gp_ws_terminal_events",
        ),
    ],
)
def test_a_misconfigured_contract_names_its_option(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        contract_from_ini(values, known_stages=("plan", "tools"))
