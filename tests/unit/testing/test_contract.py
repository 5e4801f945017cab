"""Example-based tests of the run-event contract checker: one or more cases per rule."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from golden_path.protocol import EventType
from golden_path.testing.v1 import contract
from golden_path.testing.v1.contract import (
    RULES,
    ContractViolation,
    Violation,
    assert_events,
    check_events,
    split_runs,
)

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Every golden-path test judges a run's event stream with this checker; if it "
            "missed a seq gap, an unpaired tool call or a missing agent_completed, broken "
            "streams would pass and users would see chats that hang or lose tool results."
        ),
        revenue_impact=(
            "Indirect: protects retention on every tier by keeping the harness from passing "
            "broken event streams; no direct revenue of its own."
        ),
    ),
]

Event = dict[str, Any]
Spec = tuple[EventType, dict[str, Any]]


def _id(prefix: str, digit: str) -> str:
    return prefix + digit * 32


USER_A, USER_B = _id("usr_", "a"), _id("usr_", "b")
THREAD_A, THREAD_B = _id("thr_", "a"), _id("thr_", "b")
RUN_A, RUN_B = _id("run_", "a"), _id("run_", "b")
REQ_A, REQ_B = _id("req_", "a"), "client-key_42"
TC_1, TC_2 = _id("tc_", "1"), _id("tc_", "2")

_DEFAULTS: dict[EventType, dict[str, Any]] = {
    EventType.AGENT_STARTED: {"message_id": _id("msg_", "a")},
    EventType.AGENT_THINKING: {"reasoning": "look at usage", "step": 1},
    EventType.TOOL_EXECUTING: {
        "tool_call_id": TC_1,
        "tool_name": "usage_analyzer",
        "parameters": {"days": 7},
    },
    EventType.TOOL_COMPLETED: {
        "tool_call_id": TC_1,
        "tool_name": "usage_analyzer",
        "results": {"total": 12},
        "success": True,
        "duration_ms": 41.5,
    },
    EventType.AGENT_COMPLETED: {
        "final_response": "You spent $12.",
        "result": {"total": 12},
        "usage": {"input_tokens": 120, "output_tokens": 30, "cost_usd": 0.002},
        "duration_ms": 900,
    },
    EventType.AGENT_ERROR: {"code": "internal", "message": "boom", "retryable": False},
}
_RUN_DEFAULTS = {
    RUN_A: {"user_id": USER_A, "thread_id": THREAD_A, "request_id": REQ_A},
    RUN_B: {"user_id": USER_A, "thread_id": THREAD_B, "request_id": REQ_B},
}


def spec(kind: EventType, **fields: Any) -> Spec:
    return kind, fields


def build(*specs: Spec) -> list[Event]:
    """Events from specs: ids default per run, seq numbered per user from 1, event ids unique."""
    events: list[Event] = []
    next_seq: dict[str, int] = {}
    for number, (kind, fields) in enumerate(specs):
        run = fields.get("run_id", RUN_A)
        event: Event = {
            "type": kind.value,
            "event_id": _id("evt_", "0")[:-4] + f"{number:04x}",
            "run_id": run,
            "agent_name": "golden_agent",
            "timestamp": f"2026-11-24T03:10:{number % 60:02d}.123Z",
            **_RUN_DEFAULTS.get(run, _RUN_DEFAULTS[RUN_A]),
            **copy.deepcopy(_DEFAULTS[kind]),
            **fields,
        }
        user = event["user_id"]
        event.setdefault("seq", next_seq.get(user, 1))
        next_seq[user] = event["seq"] + 1
        events.append(event)
    return events


def started(**f: Any) -> Spec:
    return spec(EventType.AGENT_STARTED, **f)


def thinking(**f: Any) -> Spec:
    return spec(EventType.AGENT_THINKING, **f)


def executing(**f: Any) -> Spec:
    return spec(EventType.TOOL_EXECUTING, **f)


def tool_done(**f: Any) -> Spec:
    return spec(EventType.TOOL_COMPLETED, **f)


def completed(**f: Any) -> Spec:
    return spec(EventType.AGENT_COMPLETED, **f)


def error(**f: Any) -> Spec:
    return spec(EventType.AGENT_ERROR, **f)


def golden(**f: Any) -> list[Spec]:
    """The five golden events of one successful run (indices 0-4 when alone)."""
    return [started(**f), thinking(**f), executing(**f), tool_done(**f), completed(**f)]


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


# --- valid streams


VALID_CASES: list[Any] = [
    pytest.param(build(*golden()), {}, id="golden-run"),
    pytest.param(build(started(), error()), {}, id="error-right-after-start"),
    pytest.param(
        build(started(), thinking(), executing(), error(code="cancelled")),
        {},
        id="error-leaves-tool-open",
    ),
    pytest.param(build(error(code="interrupted")), {}, id="interrupted-without-started"),
    pytest.param(
        build(
            started(),
            started(run_id=RUN_B),
            thinking(),
            thinking(run_id=RUN_B),
            executing(run_id=RUN_B, tool_call_id=TC_2),
            executing(),
            tool_done(),
            tool_done(run_id=RUN_B, tool_call_id=TC_2),
            completed(run_id=RUN_B),
            completed(),
        ),
        {"first_seq": 1},
        id="one-user-two-runs-interleaved",
    ),
    pytest.param(
        build(
            *[
                s
                for pair in zip(golden(), golden(user_id=USER_B, run_id=RUN_B), strict=True)
                for s in pair
            ]
        ),
        {"first_seq": 1},
        id="two-users-interleaved-seq-each-from-1",
    ),
    pytest.param(
        build(
            started(),
            thinking(),
            executing(),
            executing(tool_call_id=TC_2, tool_name="cost_optimizer"),
            thinking(step=2),
            tool_done(tool_call_id=TC_2, tool_name="cost_optimizer"),
            tool_done(),
            completed(),
        ),
        {},
        id="overlapping-tool-calls",
    ),
    pytest.param(
        build(
            *golden()[:-1],
            completed(
                upgrade={"required_tier": "mid", "feature": "report_builder", "message": "Up"}
            ),
        ),
        {},
        id="upgrade-present",
    ),
    pytest.param(build(*golden()[:-1], completed(upgrade=None)), {}, id="upgrade-null"),
    pytest.param(build(*golden()[:3]), {"require_complete": False}, id="incomplete-allowed"),
    pytest.param(
        build(*golden()[:-1], completed(x_trace="abc")),
        {},
        id="unknown-extra-field-ignored",
    ),
    pytest.param(
        [dict(e, seq=e["seq"] + 40) for e in build(*golden())],
        {},
        id="first-seen-seq-is-base",
    ),
]


@pytest.mark.parametrize(("events", "options"), VALID_CASES)
def test_valid_streams_have_no_violations(events: list[Event], options: dict[str, Any]) -> None:
    assert check_events(events, **options) == []
    assert_events(events, **options)


# --- one case (or more) per rule: mutate the golden run, expect exactly that rule

Mutator = Callable[[list[Event]], list[Event]]


def setting(index: int, **fields: Any) -> Mutator:
    def mutate(events: list[Event]) -> list[Event]:
        events[index].update(fields)
        return events

    return mutate


def removing(index: int, field: str) -> Mutator:
    def mutate(events: list[Event]) -> list[Event]:
        del events[index][field]
        return events

    return mutate


def usage(**fields: Any) -> dict[str, Any]:
    return {**_DEFAULTS[EventType.AGENT_COMPLETED]["usage"], **fields}


def replaced(*specs: Spec) -> Mutator:
    return lambda _events: build(*specs)


def appended(extra: Any) -> Mutator:
    return lambda events: [*events, extra]


VIOLATION_CASES: list[Any] = [
    # missing_field
    pytest.param(
        removing(0, "timestamp"),
        {},
        "missing_field",
        f"event #0: missing field 'timestamp' (agent_started of run {RUN_A})",
        id="missing-common-field",
    ),
    pytest.param(
        removing(1, "step"), {}, "missing_field", "event #1: missing field 'step'", id="missing-own"
    ),
    pytest.param(
        removing(4, "usage"), {}, "missing_field", "event #4: missing field 'usage'", id="no-usage"
    ),
    # bad_field
    pytest.param(
        setting(0, timestamp="2026-11-24T03:10:00Z"),
        {},
        "bad_field",
        "event #0: field 'timestamp' must be an RFC 3339 UTC timestamp with milliseconds",
        id="timestamp-without-ms",
    ),
    pytest.param(
        setting(1, timestamp="2026-11-24T03:10:00.123+00:00"),
        {},
        "bad_field",
        "event #1: field 'timestamp'",
        id="timestamp-offset-not-z",
    ),
    pytest.param(
        setting(2, timestamp="2026-02-30T03:10:00.123Z"),
        {},
        "bad_field",
        "impossible date",
        id="timestamp-impossible-date",
    ),
    pytest.param(
        setting(4, seq=True),
        {},
        "bad_field",
        "event #4: field 'seq' must be an integer ≥ 1, got bool True",
        id="seq-bool",
    ),
    pytest.param(
        setting(1, event_id=USER_A),
        {},
        "bad_field",
        "event #1: field 'event_id' must be a valid EventID",
        id="event-id-of-other-kind",
    ),
    pytest.param(
        setting(3, request_id="r" * 65),
        {},
        "bad_field",
        "event #3: field 'request_id' must be a valid RequestID",
        id="request-id-too-long",
    ),
    pytest.param(
        setting(2, agent_name=""), {}, "bad_field", "field 'agent_name'", id="agent-name-empty"
    ),
    pytest.param(setting(1, step=0), {}, "bad_field", "event #1: field 'step'", id="step-zero"),
    pytest.param(
        setting(2, parameters=["days", 7]),
        {},
        "bad_field",
        "event #2: field 'parameters' must be an object, got list",
        id="parameters-list",
    ),
    pytest.param(
        setting(3, success="true"), {}, "bad_field", "field 'success'", id="success-string"
    ),
    pytest.param(
        setting(3, duration_ms=-1), {}, "bad_field", "field 'duration_ms'", id="duration-negative"
    ),
    pytest.param(
        setting(4, duration_ms=float("nan")), {}, "bad_field", "duration_ms", id="duration-nan"
    ),
    pytest.param(
        setting(4, usage={"input_tokens": 1, "output_tokens": 2}),
        {},
        "bad_field",
        "field 'usage' is missing 'cost_usd'",
        id="usage-without-cost",
    ),
    pytest.param(
        setting(4, usage=usage(output_tokens=1.5)),
        {},
        "bad_field",
        "'output_tokens' must be an integer ≥ 0",
        id="usage-float-tokens",
    ),
    pytest.param(
        setting(4, upgrade={"required_tier": "platinum", "feature": "x", "message": "m"}),
        {},
        "bad_field",
        "'required_tier' must be one of free, early, mid, enterprise",
        id="upgrade-unknown-tier",
    ),
    pytest.param(
        setting(0, message_id="msg_XYZ"), {}, "bad_field", "field 'message_id'", id="message-id"
    ),
    pytest.param(
        replaced(started(), error(code="boom")),
        {},
        "bad_field",
        "event #1: field 'code' must be one of cancelled, timeout, interrupted, internal",
        id="error-code-unknown",
    ),
    pytest.param(
        replaced(started(), error(retryable=None)),
        {},
        "bad_field",
        "field 'retryable' must be a boolean",
        id="retryable-null",
    ),
    pytest.param(
        appended({**build(*golden())[1], "type": 7, "seq": 6, "event_id": _id("evt_", "e")}),
        {},
        "bad_field",
        "event #5: field 'type' must be a string, got int 7",
        id="type-not-string",
    ),
    # unknown_type / not_an_object
    pytest.param(
        appended(
            {
                **build(*golden())[1],
                "type": "agent_dreaming",
                "seq": 6,
                "event_id": _id("evt_", "e"),
            }
        ),
        {},
        "unknown_type",
        f"event #5: unknown type 'agent_dreaming' (run {RUN_A})",
        id="unknown-type",
    ),
    pytest.param(
        appended("oops"), {}, "not_an_object", "event #5: not a JSON object", id="not-an-object"
    ),
    # seq
    pytest.param(
        lambda events: [dict(e, seq=e["seq"] + (1 if i >= 3 else 0)) for i, e in enumerate(events)],
        {},
        "seq_gap",
        f"user {USER_A}: seq jumps from 3 to 5 (event #3)",
        id="seq-jump",
    ),
    pytest.param(
        lambda events: [dict(e, seq=e["seq"] + 1) for e in events],
        {"first_seq": 1},
        "seq_gap",
        f"user {USER_A}: first seq is 2, expected 1 (event #0)",
        id="seq-wrong-first",
    ),
    pytest.param(
        lambda events: [dict(e, seq=e["seq"] - (1 if i >= 3 else 0)) for i, e in enumerate(events)],
        {},
        "seq_not_increasing",
        f"user {USER_A}: seq 3 repeated (event #3)",
        id="seq-repeat",
    ),
    pytest.param(
        lambda events: [dict(e, seq=e["seq"] - (2 if i >= 3 else 0)) for i, e in enumerate(events)],
        {},
        "seq_not_increasing",
        f"user {USER_A}: seq goes back from 3 to 2 (event #3)",
        id="seq-back",
    ),
    # duplicate_event_id
    pytest.param(
        lambda events: [*events[:2], dict(events[2], event_id=events[1]["event_id"]), *events[3:]],
        {},
        "duplicate_event_id",
        "event #2: duplicate event_id evt_",
        id="duplicate-event-id",
    ),
    # inconsistent_id
    pytest.param(
        setting(2, thread_id=THREAD_B),
        {},
        "inconsistent_id",
        f"run {RUN_A}: event #2 has thread_id {THREAD_B}, but event #0 has {THREAD_A}",
        id="thread-differs",
    ),
    pytest.param(
        setting(3, request_id=REQ_B),
        {},
        "inconsistent_id",
        f"run {RUN_A}: event #3 has request_id {REQ_B}",
        id="request-differs",
    ),
    pytest.param(
        setting(4, user_id=USER_B),
        {},
        "inconsistent_id",
        f"run {RUN_A}: event #4 has user_id {USER_B}",
        id="user-differs",
    ),
    pytest.param(
        setting(1, agent_name="other_agent"),
        {},
        "inconsistent_id",
        f"run {RUN_A}: event #1 has agent_name other_agent",
        id="agent-differs",
    ),
    # started_not_first
    pytest.param(
        replaced(*golden()[1:]),
        {},
        "started_not_first",
        f"run {RUN_A}: first event is agent_thinking, not agent_started (event #0)",
        id="no-started",
    ),
    pytest.param(
        replaced(started(), thinking(), started(), executing(), tool_done(), completed()),
        {},
        "started_not_first",
        f"run {RUN_A}: agent_started is not the run's first event (event #2)",
        id="second-started",
    ),
    pytest.param(
        replaced(error(code="timeout")),
        {},
        "started_not_first",
        "first event is agent_error, not agent_started (event #0)",
        id="lone-error-not-interrupted",
    ),
    # no_thinking
    pytest.param(
        replaced(started(), executing(), tool_done(), completed()),
        {},
        "no_thinking",
        f"run {RUN_A}: agent_completed without any agent_thinking (event #3)",
        id="no-thinking",
    ),
    # tool pairing
    pytest.param(
        replaced(started(), thinking(), tool_done(), completed()),
        {},
        "tool_unpaired",
        f"run {RUN_A}: tool_completed {TC_1} without tool_executing (event #2)",
        id="completed-without-executing",
    ),
    pytest.param(
        replaced(started(), thinking(), executing(), completed()),
        {},
        "tool_unpaired",
        f"run {RUN_A}: tool_executing {TC_1} (event #2) never completed before "
        "agent_completed (event #3)",
        id="executing-never-completed",
    ),
    pytest.param(
        setting(3, tool_name="cost_optimizer"),
        {},
        "tool_mismatch",
        f"run {RUN_A}: tool_completed {TC_1} names tool 'cost_optimizer' but its "
        "tool_executing (event #2) named 'usage_analyzer' (event #3)",
        id="tool-name-mismatch",
    ),
    pytest.param(
        replaced(started(), thinking(), executing(), executing(), tool_done(), completed()),
        {},
        "duplicate_tool_call",
        f"run {RUN_A}: tool_executing {TC_1} repeated, first at event #2 (event #3)",
        id="executing-repeated",
    ),
    pytest.param(
        replaced(started(), thinking(), executing(), tool_done(), tool_done(), completed()),
        {},
        "duplicate_tool_call",
        f"run {RUN_A}: tool_completed {TC_1} repeated, first at event #3 (event #4)",
        id="completed-repeated",
    ),
    # terminal rules
    pytest.param(
        replaced(*golden(), thinking(step=2)),
        {},
        "after_terminal",
        f"run {RUN_A}: agent_thinking after terminal agent_completed (event #5)",
        id="after-terminal",
    ),
    pytest.param(
        replaced(*golden(), error()),
        {},
        "multiple_terminal",
        f"run {RUN_A}: second terminal event agent_error (event #5) after "
        "agent_completed (event #4)",
        id="second-terminal",
    ),
    pytest.param(
        replaced(*golden()[:-1]),
        {},
        "no_terminal",
        f"run {RUN_A}: no terminal event (agent_completed or agent_error) after its last "
        "event tool_completed (event #3)",
        id="no-terminal",
    ),
    pytest.param(
        replaced(started(), thinking(), completed()),
        {},
        "missing_golden_type",
        f"run {RUN_A}: agent_completed without tool_executing and tool_completed (event #2)",
        id="success-without-tools",
    ),
]


@pytest.mark.parametrize(("mutate", "options", "rule", "fragment"), VIOLATION_CASES)
def test_each_rule_is_reported_alone_with_a_precise_message(
    mutate: Mutator, options: dict[str, Any], rule: str, fragment: str
) -> None:
    events = mutate(build(*golden()))
    violations = check_events(events, **options)
    assert rules(violations) == {rule}, violations
    assert any(fragment in v.message for v in violations), [v.message for v in violations]
    assert rule in RULES


def test_every_rule_has_a_case_and_is_documented() -> None:
    covered = {case.values[2] for case in VIOLATION_CASES}
    assert covered == set(RULES)
    doc = contract.__doc__
    assert doc is not None
    documented = set(re.findall(r"^``([a-z_]+)``$", doc, flags=re.MULTILINE))
    assert documented == set(RULES)


def test_violation_carries_index_and_run() -> None:
    events = build(started(), thinking(), tool_done(), completed())
    [violation] = check_events(events)
    assert violation == Violation(
        rule="tool_unpaired",
        message=f"run {RUN_A}: tool_completed {TC_1} without tool_executing (event #2)",
        index=2,
        run_id=RUN_A,
    )
    assert str(violation) == f"tool_unpaired: {violation.message}"


def test_seq_violation_names_the_run_of_the_event() -> None:
    events = build(*golden(), *golden(run_id=RUN_B))
    events[7]["seq"] = 99
    events[8]["seq"] = 100
    events[9]["seq"] = 101
    [violation] = check_events(events)
    assert (violation.rule, violation.index, violation.run_id) == ("seq_gap", 7, RUN_B)


def test_seq_is_counted_per_user_not_per_run() -> None:
    events = build(*golden())
    events += build(*golden(user_id=USER_B, run_id=RUN_B))
    for offset, event in enumerate(events[5:]):
        event["event_id"] = _id("evt_", "f")[:-4] + f"{offset:04x}"
    assert check_events(events, first_seq=1) == []
    events[5]["user_id"] = events[6]["user_id"] = USER_A  # two events of run B join user A's count
    found = check_events(events, first_seq=1)
    assert {"seq_gap", "seq_not_increasing", "inconsistent_id"} <= rules(found)


def test_incomplete_run_reports_only_no_terminal() -> None:
    events = build(started(), executing())  # no thinking, open tool: may still come
    assert rules(check_events(events)) == {"no_terminal"}
    assert check_events(events, require_complete=False) == []


def test_order_rules_apply_to_incomplete_runs_too() -> None:
    events = build(started(), thinking(), tool_done())
    assert rules(check_events(events, require_complete=False)) == {"tool_unpaired"}


def test_error_run_may_skip_thinking_and_tools() -> None:
    events = build(started(), error(code="timeout", retryable=True))
    assert check_events(events) == []
    events[1]["type"] = EventType.AGENT_COMPLETED.value
    events[1].update(_DEFAULTS[EventType.AGENT_COMPLETED])
    assert rules(check_events(events)) == {"no_thinking", "missing_golden_type"}


def test_interrupted_error_followed_by_events_is_after_terminal() -> None:
    events = build(error(code="interrupted"), thinking())
    assert rules(check_events(events)) == {"after_terminal"}


def test_event_without_run_id_takes_no_part_in_run_checks() -> None:
    events = build(*golden())
    del events[2]["run_id"]
    found = check_events(events)
    assert rules(found) == {"missing_field", "tool_unpaired"}
    assert found[0].run_id is None


def test_assert_events_raises_a_contract_violation_listing_all() -> None:
    events = build(started(), thinking(), tool_done())
    with pytest.raises(ContractViolation) as raised:
        assert_events(events)
    error_ = raised.value
    assert isinstance(error_, AssertionError)
    assert [v.rule for v in error_.violations] == ["tool_unpaired", "no_terminal"]
    assert str(error_).splitlines() == [str(v) for v in error_.violations]


def test_assert_events_passes_options_through() -> None:
    events = build(*golden()[:2])
    assert_events(events, require_complete=False, first_seq=1)
    with pytest.raises(ContractViolation, match="first seq is 1, expected 5"):
        assert_events(events, require_complete=False, first_seq=5)


def test_checker_does_not_mutate_and_accepts_any_mapping() -> None:
    events = build(*golden())
    before = copy.deepcopy(events)
    frozen = [MappingProxyType(e) for e in events]
    assert check_events(frozen) == []
    del events[4]["usage"]
    before_bad = copy.deepcopy(events)
    assert check_events(events)
    assert events == before_bad
    assert before[4]["usage"] == _DEFAULTS[EventType.AGENT_COMPLETED]["usage"]


def test_split_runs_groups_by_run_in_first_seen_order() -> None:
    events = build(started(run_id=RUN_B), started(), thinking(), thinking(run_id=RUN_B))
    no_run = dict(events[0])
    del no_run["run_id"]
    runs = split_runs([*events, no_run])
    assert list(runs) == [RUN_B, RUN_A]
    assert runs[RUN_B] == [events[0], events[3]]
    assert runs[RUN_A] == [events[1], events[2]]
