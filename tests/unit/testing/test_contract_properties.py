"""Property tests of the contract checker: valid streams pass, every single mutation is caught.

Each mutation test computes the exact set of rules the mutation must trigger,
from the protocol's rules alone (the reasoning is spelled out next to each
expectation), and checks the checker reports exactly that set, with messages
naming the run and the event concerned. Mutations that change how many events
a user has are checked twice: as made (seq left as it was: the seq rules join
in, as reasoned) and "renumbered" (seq re-assigned per user afterwards: only
the structural rule remains).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from golden_path.protocol import COMMON_EVENT_FIELDS, EVENT_FIELDS, AgentErrorCode, EventType
from golden_path.testing.v1.contract import Violation, check_events, split_runs
from golden_path.testing.v1.strategies import AGENT_NAMES, valid_event_streams

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Shows the event-contract checker catches every single-event corruption of a "
            "stream (lost, reordered, duplicated, misrouted or malformed events) that would "
            "leave a user's chat hanging or showing another run's output."
        ),
        revenue_impact=(
            "Indirect: a checker that silently passes corrupted streams would let golden-path "
            "regressions ship to every tier and cost retention; no direct revenue."
        ),
    ),
]

Event = dict[str, Any]

STARTED = EventType.AGENT_STARTED.value
THINKING = EventType.AGENT_THINKING.value
EXECUTING = EventType.TOOL_EXECUTING.value
TOOL_DONE = EventType.TOOL_COMPLETED.value
COMPLETED = EventType.AGENT_COMPLETED.value
ERROR = EventType.AGENT_ERROR.value
TERMINALS = {COMPLETED, ERROR}

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Two users with up to two runs each is enough to interleave runs and users; bigger
# streams only slow the suite down.
streams = valid_event_streams(max_users=2, max_runs_per_user=2)


# --- helpers


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def check(events: list[Event]) -> list[Violation]:
    return check_events(events, first_seq=1)


def renumbered(events: list[Event]) -> list[Event]:
    """A copy with seq re-assigned per user from 1, in stream order."""
    out = copy.deepcopy(events)
    next_seq: dict[str, int] = {}
    for event in out:
        user = event["user_id"]
        event["seq"] = next_seq.get(user, 1)
        next_seq[user] = event["seq"] + 1
    return out


def positions(stream: list[Event], run_id: str) -> list[int]:
    """Stream indices of the run's events, in order."""
    return [i for i, e in enumerate(stream) if e["run_id"] == run_id]


def is_last_of_user(stream: list[Event], index: int) -> bool:
    user = stream[index]["user_id"]
    return all(e["user_id"] != user for e in stream[index + 1 :])


def fresh(prefix: str, used: set[str]) -> str:
    """An identifier of the given prefix not used anywhere in the stream."""
    for digit in "0123456789abcdef":
        candidate = prefix + digit * 31 + "7"
        if candidate not in used:
            return candidate
    raise AssertionError("no fresh id")  # pragma: no cover


def all_values(stream: list[Event]) -> set[str]:
    return {v for e in stream for v in e.values() if isinstance(v, str)}


def names(violations: list[Violation], rule: str, *fragments: str) -> bool:
    """Some violation of ``rule`` mentions every fragment."""
    return any(v.rule == rule and all(f in v.message for f in fragments) for v in violations)


def drop_effect(run: list[Event], pos: int) -> set[str]:
    """The structural rules a run breaks when its event at ``pos`` is taken out.

    * agent_started: the run now begins with another event -> started_not_first, unless
      what is left is a lone ``interrupted`` agent_error (a valid run of its own).
    * agent_thinking: only a successful run needs one -> no_thinking if it was the only one.
    * tool_executing: its tool_completed (if the run has it) is now unpaired.
    * tool_completed: a successful run ends with that call open -> tool_unpaired; an
      error run may leave a call open.
    * the terminal event: the run is incomplete -> no_terminal (and nothing else, since
      an incomplete run may still be going).
    """
    event = run[pos]
    kind = event["type"]
    rest = run[:pos] + run[pos + 1 :]
    successful = run[-1]["type"] == COMPLETED
    if kind == STARTED:
        lone_interrupt = (
            len(rest) == 1
            and rest[0]["type"] == ERROR
            and rest[0]["code"] == AgentErrorCode.INTERRUPTED.value
        )
        return set() if lone_interrupt else {"started_not_first"}
    if kind == THINKING:
        only_one = sum(e["type"] == THINKING for e in run) == 1
        return {"no_thinking"} if successful and only_one else set()
    if kind == EXECUTING:
        call = event["tool_call_id"]
        has_partner = any(e["type"] == TOOL_DONE and e["tool_call_id"] == call for e in run)
        return {"tool_unpaired"} if has_partner else set()
    if kind == TOOL_DONE:
        return {"tool_unpaired"} if successful else set()
    return {"no_terminal"}


def orphan_effect(event: Event) -> set[str]:
    """The rules a run made of this one event alone breaks."""
    kind = event["type"]
    if kind == STARTED:
        return {"no_terminal"}
    if kind == ERROR:
        interrupted = event["code"] == AgentErrorCode.INTERRUPTED.value
        return set() if interrupted else {"started_not_first"}
    if kind == COMPLETED:
        return {"started_not_first", "no_thinking", "missing_golden_type"}
    if kind == TOOL_DONE:
        return {"started_not_first", "tool_unpaired", "no_terminal"}
    return {"started_not_first", "no_terminal"}


# --- valid streams


@settings(FAST, max_examples=60)
@given(valid_event_streams())
def test_every_generated_stream_passes(stream: list[Event]) -> None:
    assert check(stream) == []


@FAST
@given(streams, st.data())
def test_every_prefix_of_a_valid_stream_passes_while_incomplete(
    stream: list[Event], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(stream)), label="cut")
    assert check_events(stream[:cut], first_seq=1, require_complete=False) == []


# --- drop one event


@FAST
@given(streams, st.data())
def test_dropping_an_event_breaks_exactly_the_expected_rules(
    stream: list[Event], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    dropped = stream[index]
    run_id = dropped["run_id"]
    run_positions = positions(stream, run_id)
    structural = drop_effect([stream[i] for i in run_positions], run_positions.index(index))
    mutated = stream[:index] + stream[index + 1 :]

    # As dropped: the user's seq skips the lost number unless it was the user's last event
    # (with first_seq=1, losing the user's first event is a gap too: the next starts at 2).
    seq_rules = set() if is_last_of_user(stream, index) else {"seq_gap"}
    found = check(mutated)
    assert rules(found) == structural | seq_rules
    if seq_rules:
        assert names(found, "seq_gap", dropped["user_id"])
    for rule in structural:
        assert names(found, rule, f"run {run_id}")

    # Renumbered: only the structural rule is left.
    assert rules(check(renumbered(mutated))) == structural


# --- swap two events of one run


@FAST
@given(streams, st.data())
def test_swapping_started_with_the_next_event_of_its_run(
    stream: list[Event], data: st.DataObject
) -> None:
    run_id = data.draw(st.sampled_from(sorted(split_runs(stream))), label="run")
    first, second = positions(stream, run_id)[:2]
    nxt = stream[second]
    mutated = copy.deepcopy(stream)
    mutated[first], mutated[second] = mutated[second], mutated[first]
    # The run now begins with the old second event. A thinking first -> started_not_first.
    # An agent_error first ends the run at once: agent_started comes after the terminal
    # (after_terminal), and the run lacks its start unless the error is "interrupted".
    if nxt["type"] == ERROR:
        expected = {"after_terminal"}
        if nxt["code"] != AgentErrorCode.INTERRUPTED.value:
            expected.add("started_not_first")
    else:
        expected = {"started_not_first"}
    assert rules(check(renumbered(mutated))) == expected
    assert names(check(renumbered(mutated)), next(iter(expected)), f"run {run_id}")
    # As swapped: the later seq arrives first (a gap), the earlier one after it (goes back).
    assert rules(check(mutated)) == expected | {"seq_gap", "seq_not_increasing"}


@FAST
@given(streams, st.data())
def test_swapping_a_tool_call_with_its_completion(stream: list[Event], data: st.DataObject) -> None:
    pairs = [
        (i, j)
        for i, e in enumerate(stream)
        if e["type"] == EXECUTING
        for j, f in enumerate(stream)
        if f["type"] == TOOL_DONE and f["tool_call_id"] == e["tool_call_id"]
    ]
    assume(pairs)  # not every run was an error run cut before any tool completed
    i, j = data.draw(st.sampled_from(pairs), label="pair")
    mutated = copy.deepcopy(stream)
    mutated[i], mutated[j] = mutated[j], mutated[i]
    # The completion now comes first: tool_completed without tool_executing. The call that
    # opens after it is never completed: tool_unpaired again in a successful run, allowed
    # in an error run. Either way the rule set is {tool_unpaired}.
    found = check(renumbered(mutated))
    assert rules(found) == {"tool_unpaired"}
    assert names(found, "tool_unpaired", stream[i]["tool_call_id"], f"(event #{i})")
    assert rules(check(mutated)) == {"tool_unpaired", "seq_gap", "seq_not_increasing"}


@FAST
@given(streams, st.data())
def test_swapping_the_terminal_event_with_the_one_before(
    stream: list[Event], data: st.DataObject
) -> None:
    run_id = data.draw(st.sampled_from(sorted(split_runs(stream))), label="run")
    run_positions = positions(stream, run_id)
    before, last = run_positions[-2], run_positions[-1]
    run = [stream[i] for i in run_positions]
    moved, terminal = stream[before], stream[last]
    successful = terminal["type"] == COMPLETED
    mutated = copy.deepcopy(stream)
    mutated[before], mutated[last] = mutated[last], mutated[before]

    # The moved event now follows the terminal one: after_terminal, and it no longer
    # counts for the run. What the run then lacks depends on what moved:
    expected = {"after_terminal"}
    if moved["type"] == THINKING and successful and sum(e["type"] == THINKING for e in run) == 1:
        expected.add("no_thinking")
    elif moved["type"] == TOOL_DONE and successful:
        expected.add("tool_unpaired")  # its call is open when agent_completed arrives
    elif moved["type"] == STARTED and terminal["code"] != AgentErrorCode.INTERRUPTED.value:
        expected.add("started_not_first")  # [agent_error, agent_started]
    # (a tool_executing right before the terminal event has no completion to lose)
    found = check(renumbered(mutated))
    assert rules(found) == expected
    assert names(found, "after_terminal", f"run {run_id}", f"(event #{last})")


# --- duplicate an event


@FAST
@given(streams, st.data())
def test_duplicating_an_event(stream: list[Event], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    original = stream[index]
    mutated = copy.deepcopy(stream)
    mutated.insert(index + 1, copy.deepcopy(original))
    # Same event_id twice, plus what a second copy of that type does to its run.
    structural = {
        STARTED: {"started_not_first"},
        THINKING: set(),
        EXECUTING: {"duplicate_tool_call"},
        TOOL_DONE: {"duplicate_tool_call"},
        COMPLETED: {"multiple_terminal"},
        ERROR: {"multiple_terminal"},
    }[original["type"]]
    found = check(renumbered(mutated))
    assert rules(found) == {"duplicate_event_id"} | structural
    assert names(found, "duplicate_event_id", f"event #{index + 1}", original["event_id"])
    for rule in structural:
        assert names(found, rule, f"run {original['run_id']}", f"(event #{index + 1})")
    # As copied: the copy repeats the original's seq.
    as_copied = check(mutated)
    assert rules(as_copied) == {"duplicate_event_id", "seq_not_increasing"} | structural
    assert names(as_copied, "seq_not_increasing", f"seq {original['seq']} repeated")


# --- a wrong id on one event


@FAST
@given(streams, st.data())
def test_a_foreign_run_scoped_id_is_inconsistent(stream: list[Event], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    field = data.draw(
        st.sampled_from(("user_id", "thread_id", "request_id", "agent_name")), label="field"
    )
    used = all_values(stream)
    value = {
        "user_id": fresh("usr_", used),
        "thread_id": fresh("thr_", used),
        "request_id": fresh("req_", used),
        "agent_name": next(n for n in ("other_agent", "x_agent") if n not in AGENT_NAMES),
    }[field]
    run_id = stream[index]["run_id"]
    mutated = copy.deepcopy(stream)
    mutated[index][field] = value

    found = check(renumbered(mutated))
    assert rules(found) == {"inconsistent_id"}
    # Every report names the run and the odd event (as the event or as the reference).
    assert all(f"run {run_id}" in v.message and f"event #{index}" in v.message for v in found)
    assert any(value in v.message for v in found)
    if field == "user_id":
        # As changed: the new user's first seq is not 1, or (if it was 1) the old
        # user's now starts at 2; either way a seq_gap, never a repeat.
        assert rules(check(mutated)) == {"inconsistent_id", "seq_gap"}
    else:
        assert rules(check(mutated)) == {"inconsistent_id"}


@FAST
@given(streams, st.data())
def test_a_foreign_run_id_moves_the_event_out_of_its_run(
    stream: list[Event], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    event = stream[index]
    run_positions = positions(stream, event["run_id"])
    new_run = fresh("run_", all_values(stream))
    mutated = copy.deepcopy(stream)
    mutated[index]["run_id"] = new_run
    # The event's run loses it (as if dropped) and the event forms a one-event run.
    lost = drop_effect([stream[i] for i in run_positions], run_positions.index(index))
    alone = orphan_effect(event)
    found = check(mutated)  # the user's events and their order are unchanged: seq is fine
    assert rules(found) == lost | alone
    for rule in alone - lost:
        assert names(found, rule, f"run {new_run}")
    for rule in lost - alone:
        assert names(found, rule, f"run {event['run_id']}")


# --- an event after the terminal one


def late_event(run: list[Event], kind: EventType, used: set[str]) -> Event:
    """A well-formed event of ``kind`` for the run (fresh event and tool-call ids)."""
    base = {f: run[0][f] for f in COMMON_EVENT_FIELDS}
    base["type"] = kind.value
    base["event_id"] = fresh("evt_", used)
    own: dict[EventType, dict[str, Any]] = {
        EventType.AGENT_STARTED: {"message_id": fresh("msg_", used)},
        EventType.AGENT_THINKING: {"reasoning": "late", "step": 9},
        EventType.TOOL_EXECUTING: {
            "tool_call_id": fresh("tc_", used),
            "tool_name": "usage_analyzer",
            "parameters": {},
        },
        EventType.TOOL_COMPLETED: {
            "tool_call_id": fresh("tc_", used),
            "tool_name": "usage_analyzer",
            "results": {},
            "success": True,
            "duration_ms": 1,
        },
        EventType.AGENT_COMPLETED: {
            "final_response": "late",
            "result": {},
            "usage": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0},
            "duration_ms": 1,
        },
        EventType.AGENT_ERROR: {"code": "internal", "message": "late", "retryable": False},
    }
    return {**base, **own[kind]}


@FAST
@given(streams, st.data(), st.sampled_from(EventType))
def test_an_event_after_the_terminal_one(
    stream: list[Event], data: st.DataObject, kind: EventType
) -> None:
    run_id = data.draw(st.sampled_from(sorted(split_runs(stream))), label="run")
    terminal_at = positions(stream, run_id)[-1]
    at = data.draw(st.integers(min_value=terminal_at + 1, max_value=len(stream)), label="at")
    mutated = copy.deepcopy(stream)
    run = [stream[i] for i in positions(stream, run_id)]
    mutated.insert(at, late_event(run, kind, all_values(stream)))
    mutated = renumbered(mutated)
    # Anything after the terminal event is reported as such and takes no further part.
    rule = "multiple_terminal" if kind.is_terminal else "after_terminal"
    found = check(mutated)
    assert rules(found) == {rule}
    assert names(found, rule, f"run {run_id}", f"(event #{at})", kind.value)


# --- a required field removed, or of the wrong type

# Removing or spoiling these takes the event out of its run's order checks,
# so the run breaks as if the event were dropped.
STRUCTURAL_KEYS = {"type", "run_id", "tool_call_id"}
# Removing or spoiling these takes the event out of its user's seq count.
SEQ_KEYS = {"seq", "user_id"}


def required_fields(event: Event) -> list[str]:
    own = [f for f in EVENT_FIELDS[EventType(event["type"])] if not f.endswith("?")]
    return [*COMMON_EVENT_FIELDS, *own]


def spoil_effect(stream: list[Event], index: int, field: str) -> set[str]:
    event = stream[index]
    if field in STRUCTURAL_KEYS:
        run_positions = positions(stream, event["run_id"])
        return drop_effect([stream[i] for i in run_positions], run_positions.index(index))
    if field in SEQ_KEYS and not is_last_of_user(stream, index):
        return {"seq_gap"}
    return set()


@FAST
@given(streams, st.data())
def test_removing_a_required_field(stream: list[Event], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    field = data.draw(st.sampled_from(required_fields(stream[index])), label="field")
    mutated = copy.deepcopy(stream)
    del mutated[index][field]
    found = check(mutated)
    assert rules(found) == {"missing_field"} | spoil_effect(stream, index, field)
    [missing] = [v for v in found if v.rule == "missing_field"]
    assert missing.index == index
    assert missing.message.startswith(f"event #{index}: missing field {field!r}")
    if field != "run_id":
        assert missing.run_id == stream[index]["run_id"]


@FAST
@given(
    streams,
    st.data(),
    st.sampled_from([[], ["x"], [None, 1]]),  # a JSON array fits no field of protocol v1
)
def test_a_field_of_the_wrong_type(stream: list[Event], data: st.DataObject, wrong: Any) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(stream) - 1), label="index")
    present = sorted(set(stream[index]) & {f.rstrip("?") for f in required_fields(stream[index])})
    field = data.draw(st.sampled_from(present), label="field")
    mutated = copy.deepcopy(stream)
    mutated[index][field] = wrong
    found = check(mutated)
    assert rules(found) == {"bad_field"} | spoil_effect(stream, index, field)
    [bad] = [v for v in found if v.rule == "bad_field"]
    assert bad.index == index
    assert bad.message.startswith(f"event #{index}: field {field!r} must be")
    assert "got list" in bad.message
