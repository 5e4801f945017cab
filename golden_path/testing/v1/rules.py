"""Protocol v1's sequence rules: ids, ``seq``, and each run's order, over parsed events.

The rules half of the v1 checker (the field checks are
:mod:`golden_path.testing.v1.fields`); :mod:`golden_path.testing.v1.contract`
runs both and documents every rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from golden_path.protocol import GOLDEN_EVENTS, TERMINAL_EVENTS, AgentErrorCode, EventType
from golden_path.testing.v1.fields import RUN_SCOPED_FIELDS, Event, located, run_of, valid
from golden_path.testing.violation import Violation


def check_event_ids(parsed: Sequence[Event], out: list[Violation]) -> None:
    first_at: dict[str, int] = {}
    for event in parsed:
        index, raw = event.index, event.raw
        event_id = raw.get("event_id")
        if not isinstance(event_id, str):
            continue
        if event_id in first_at:
            out.append(
                Violation(
                    "duplicate_event_id",
                    f"event #{index}: duplicate event_id {event_id} "
                    f"(first at event #{first_at[event_id]}){located(raw)}",
                    index,
                    run_of(raw),
                )
            )
        else:
            first_at[event_id] = index


def check_seq(parsed: Sequence[Event], first_seq: int | None, out: list[Violation]) -> None:
    last: dict[str, int] = {}
    for event in parsed:
        index, raw = event.index, event.raw
        if not (valid(raw, "user_id") and valid(raw, "seq")):
            continue
        user: str = raw["user_id"]
        seq: int = raw["seq"]
        run = run_of(raw)
        if user not in last:
            if first_seq is not None and seq != first_seq:
                out.append(
                    Violation(
                        "seq_gap",
                        f"user {user}: first seq is {seq}, expected {first_seq} (event #{index})",
                        index,
                        run,
                    )
                )
            last[user] = seq
            continue
        previous = last[user]
        if seq == previous + 1:
            last[user] = seq
        elif seq > previous + 1:
            out.append(
                Violation(
                    "seq_gap",
                    f"user {user}: seq jumps from {previous} to {seq} (event #{index})",
                    index,
                    run,
                )
            )
            last[user] = seq
        else:
            what = (
                f"seq {seq} repeated"
                if seq == previous
                else f"seq goes back from {previous} to {seq}"
            )
            out.append(
                Violation("seq_not_increasing", f"user {user}: {what} (event #{index})", index, run)
            )


def check_consistency(run_id: str, run: Sequence[Event], out: list[Violation]) -> None:
    for field in RUN_SCOPED_FIELDS:
        reference: Event | None = None
        for event in run:
            if not valid(event.raw, field):
                continue
            if reference is None:
                reference = event
                continue
            value, expected = event.raw[field], reference.raw[field]
            if value != expected:
                out.append(
                    Violation(
                        "inconsistent_id",
                        f"run {run_id}: event #{event.index} has {field} {value}, "
                        f"but event #{reference.index} has {expected}",
                        event.index,
                        run_id,
                    )
                )


def _tool_call_id(event: Event) -> str | None:
    return event.raw["tool_call_id"] if valid(event.raw, "tool_call_id") else None


def check_order(
    run_id: str, run: Sequence[Event], require_complete: bool, out: list[Violation]
) -> None:
    typed = [e for e in run if e.type is not None]
    if not typed:
        return

    def report(rule: str, message: str, index: int) -> None:
        out.append(Violation(rule, f"run {run_id}: {message}", index, run_id))

    first = typed[0]
    interrupted_only = (
        first.type is EventType.AGENT_ERROR
        and first.raw.get("code") == AgentErrorCode.INTERRUPTED.value
    )
    if first.type is not EventType.AGENT_STARTED and not interrupted_only:
        report(
            "started_not_first",
            f"first event is {first.type}, not agent_started (event #{first.index})",
            first.index,
        )

    terminal: Event | None = None
    seen: set[EventType] = set()
    executed: dict[str, Event] = {}
    completed: dict[str, Event] = {}
    for position, event in enumerate(typed):
        kind = event.type
        assert kind is not None
        if terminal is not None:
            if kind in TERMINAL_EVENTS:
                report(
                    "multiple_terminal",
                    f"second terminal event {kind} (event #{event.index}) after "
                    f"{terminal.type} (event #{terminal.index})",
                    event.index,
                )
            else:
                report(
                    "after_terminal",
                    f"{kind} after terminal {terminal.type} (event #{event.index})",
                    event.index,
                )
            continue
        seen.add(kind)
        if kind is EventType.AGENT_STARTED and position > 0:
            report(
                "started_not_first",
                f"agent_started is not the run's first event (event #{event.index})",
                event.index,
            )
        elif kind is EventType.TOOL_EXECUTING:
            call = _tool_call_id(event)
            if call is None:
                continue
            if call in executed:
                report(
                    "duplicate_tool_call",
                    f"tool_executing {call} repeated, first at event #{executed[call].index} "
                    f"(event #{event.index})",
                    event.index,
                )
            else:
                executed[call] = event
        elif kind is EventType.TOOL_COMPLETED:
            call = _tool_call_id(event)
            if call is None:
                continue
            if call in completed:
                report(
                    "duplicate_tool_call",
                    f"tool_completed {call} repeated, first at event #{completed[call].index} "
                    f"(event #{event.index})",
                    event.index,
                )
            elif call not in executed:
                report(
                    "tool_unpaired",
                    f"tool_completed {call} without tool_executing (event #{event.index})",
                    event.index,
                )
            else:
                completed[call] = event
                start = executed[call]
                name, started_name = event.raw.get("tool_name"), start.raw.get("tool_name")
                if isinstance(name, str) and isinstance(started_name, str) and name != started_name:
                    report(
                        "tool_mismatch",
                        f"tool_completed {call} names tool {name!r} but its tool_executing "
                        f"(event #{start.index}) named {started_name!r} (event #{event.index})",
                        event.index,
                    )
        elif kind in TERMINAL_EVENTS:
            terminal = event

    if terminal is None:
        if require_complete:
            last = typed[-1]
            report(
                "no_terminal",
                f"no terminal event (agent_completed or agent_error) after its last "
                f"event {last.type} (event #{last.index})",
                last.index,
            )
        return
    if terminal.type is not EventType.AGENT_COMPLETED:
        return
    for call, start in executed.items():
        if call not in completed:
            report(
                "tool_unpaired",
                f"tool_executing {call} (event #{start.index}) never completed before "
                f"agent_completed (event #{terminal.index})",
                start.index,
            )
    if EventType.AGENT_THINKING not in seen:
        report(
            "no_thinking",
            f"agent_completed without any agent_thinking (event #{terminal.index})",
            terminal.index,
        )
    # Types a more specific rule already reports when absent.
    covered = {EventType.AGENT_STARTED, EventType.AGENT_THINKING, EventType.AGENT_COMPLETED}
    if seen & {EventType.TOOL_EXECUTING, EventType.TOOL_COMPLETED}:
        covered |= {EventType.TOOL_EXECUTING, EventType.TOOL_COMPLETED}
    missing = [t.value for t in GOLDEN_EVENTS if t not in seen and t not in covered]
    if missing:
        report(
            "missing_golden_type",
            f"agent_completed without {' and '.join(missing)} (event #{terminal.index})",
            terminal.index,
        )
