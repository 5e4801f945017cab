"""The run-event contract of protocol v1 (§5), checked over a list of events.

``check_events`` takes events as the wire carries them (JSON objects, i.e.
mappings) and returns every way they break the contract; ``assert_events``
raises :class:`ContractViolation` listing them all. The checker is pure: no
I/O, no clock, no global state. Event types and field lists come from
:mod:`golden_path.protocol`; identifier formats from :mod:`golden_path.ids`.

Every :class:`Violation` carries a stable ``rule`` name:

``not_an_object``
    An event is not a JSON object (mapping).
``missing_field``
    A common field or a required field of the event's type is absent.
``bad_field``
    A field is present with the wrong type, format or range (an identifier of
    the wrong kind, a timestamp that is not RFC 3339 UTC with milliseconds, a
    negative duration, an unknown error code, a malformed ``usage`` ...).
``unknown_type``
    ``type`` is a string that names no run event.
``seq_gap``
    A user's ``seq`` skips ahead (``3`` then ``5``), or, with ``first_seq``,
    a user's first event does not carry it.
``seq_not_increasing``
    A user's ``seq`` repeats or goes back.
``duplicate_event_id``
    Two events carry the same ``event_id``.
``inconsistent_id``
    Events of one run disagree on ``user_id``, ``thread_id``, ``request_id``
    or ``agent_name`` (compared with the run's first event carrying a valid
    value).
``started_not_first``
    A run's first event is not ``agent_started`` (the one exception: a run
    whose first event is an ``interrupted`` ``agent_error``), or an
    ``agent_started`` appears later in a run.
``no_thinking``
    A run ends in ``agent_completed`` without any ``agent_thinking``.
``tool_unpaired``
    A ``tool_completed`` has no earlier ``tool_executing`` with its
    ``tool_call_id``, or a run ends in ``agent_completed`` with a
    ``tool_executing`` never completed. (A run ending in ``agent_error`` may
    leave a tool call open.)
``tool_mismatch``
    A ``tool_completed`` names another tool than its ``tool_executing``.
``duplicate_tool_call``
    A run repeats a ``tool_executing`` or a ``tool_completed`` for one
    ``tool_call_id``.
``after_terminal``
    A non-terminal event follows the run's terminal event.
``multiple_terminal``
    A second terminal event follows the run's terminal event.
``no_terminal``
    With ``require_complete=True``: a run has no terminal event.
``missing_golden_type``
    A run ends in ``agent_completed`` without one of the golden event types
    (:data:`golden_path.protocol.GOLDEN_EVENTS`) that no more specific rule
    already reports: in practice, a successful run that made no tool call.

Rules do not double-report: events after a run's terminal event are reported
only as ``after_terminal`` / ``multiple_terminal`` and take no further part
in the run's order checks; an incomplete run (no terminal event) is reported
only as ``no_terminal``, since it may still be going. Events whose ``type``
or ``run_id`` is missing or malformed get their field violation and take no
part in the run checks. Fields the protocol does not name are ignored (a
newer server may add some).

Messages say what is wrong and where, e.g.
``run run_…: tool_completed tc_… without tool_executing (event #4)`` or
``user usr_…: seq jumps from 3 to 5 (event #4)``; event numbers are indices
into the list given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from golden_path.errors import GoldenPathError
from golden_path.ids import (
    EventID,
    MessageID,
    RequestID,
    RunID,
    ThreadID,
    ToolCallID,
    UserID,
)
from golden_path.protocol import (
    COMMON_EVENT_FIELDS,
    EVENT_FIELDS,
    GOLDEN_EVENTS,
    TERMINAL_EVENTS,
    AgentErrorCode,
    EventType,
)
from golden_path.tiers import Tier

__all__ = [
    "RULES",
    "ContractViolation",
    "Violation",
    "assert_events",
    "check_events",
    "split_runs",
]

RULES: Mapping[str, str] = {
    "not_an_object": "an event is not a JSON object",
    "missing_field": "a required field is absent",
    "bad_field": "a field has the wrong type, format or range",
    "unknown_type": "the event type names no run event",
    "seq_gap": "a user's seq skips ahead or does not start at first_seq",
    "seq_not_increasing": "a user's seq repeats or goes back",
    "duplicate_event_id": "two events share an event_id",
    "inconsistent_id": "events of one run disagree on a run-scoped id",
    "started_not_first": "a run does not begin with agent_started, or repeats it",
    "no_thinking": "a successful run has no agent_thinking",
    "tool_unpaired": "a tool_executing/tool_completed lacks its partner",
    "tool_mismatch": "a tool_completed names another tool than its tool_executing",
    "duplicate_tool_call": "a tool_call_id is executed or completed twice in a run",
    "after_terminal": "an event follows the run's terminal event",
    "multiple_terminal": "a run has more than one terminal event",
    "no_terminal": "a run has no terminal event",
    "missing_golden_type": "a successful run lacks a golden event type",
}

# Fields that all events of one run must agree on (besides run_id itself).
RUN_SCOPED_FIELDS: tuple[str, ...] = ("user_id", "thread_id", "request_id", "agent_name")

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_OPTIONAL = "?"


@dataclass(frozen=True)
class Violation:
    """One way a list of events breaks the contract."""

    rule: str
    message: str
    index: int | None
    run_id: str | None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class ContractViolation(GoldenPathError, AssertionError):
    """Raised by :func:`assert_events`; ``str()`` lists every violation, one per line."""

    violations: list[Violation]

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("\n".join(str(v) for v in self.violations))


# --- field validators: each returns None when the value is fine, else what was expected.

_Check = Callable[[object], str | None]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _got(value: object) -> str:
    return f"got {type(value).__name__} {_short(value)}"


def _identifier(kind: Callable[[object], bool], name: str, describe: str) -> _Check:
    def check(value: object) -> str | None:
        if kind(value):
            return None
        return f"must be a valid {name} ({describe}), {_got(value)}"

    return check


_IdType = type[UserID | ThreadID | RunID | MessageID | EventID | ToolCallID | RequestID]


def _id_check(cls: _IdType) -> _Check:
    return _identifier(cls.is_valid, cls.kind, cls.describe())


def _string(value: object) -> str | None:
    return None if isinstance(value, str) else f"must be a string, {_got(value)}"


def _name(value: object) -> str | None:
    if isinstance(value, str) and value:
        return None
    return f"must be a non-empty string, {_got(value)}"


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else f"must be a boolean, {_got(value)}"


def _object(value: object) -> str | None:
    return None if isinstance(value, Mapping) else f"must be an object, {_got(value)}"


def _positive_int(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return f"must be an integer ≥ 1, {_got(value)}"


def _non_negative_int(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"must be an integer ≥ 0, {_got(value)}"


def _non_negative_number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a finite number ≥ 0, {_got(value)}"
    if math.isfinite(value) and value >= 0:
        return None
    return f"must be a finite number ≥ 0, {_got(value)}"


def _timestamp(value: object) -> str | None:
    expected = "must be an RFC 3339 UTC timestamp with milliseconds (2026-11-24T03:10:00.123Z)"
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        return f"{expected}, {_got(value)}"
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return f"{expected}, got an impossible date {_short(value)}"
    return None


def _error_code(value: object) -> str | None:
    codes = [c.value for c in AgentErrorCode]
    if isinstance(value, str) and value in codes:
        return None
    return f"must be one of {', '.join(codes)}, {_got(value)}"


def _usage(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return _object(value)
    parts: dict[str, _Check] = {
        "input_tokens": _non_negative_int,
        "output_tokens": _non_negative_int,
        "cost_usd": _non_negative_number,
    }
    for key, check in parts.items():
        if key not in value:
            return f"is missing {key!r}"
        problem = check(value[key])
        if problem is not None:
            return f"{key!r} {problem}"
    return None


def _upgrade(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return f"must be an object or null, {_got(value)}"
    tiers = [t.value for t in Tier]
    parts: dict[str, _Check] = {
        "required_tier": lambda v: (
            None
            if isinstance(v, str) and v in tiers
            else f"must be one of {', '.join(tiers)}, {_got(v)}"
        ),
        "feature": _name,
        "message": _string,
    }
    for key, check in parts.items():
        if key not in value:
            return f"is missing {key!r}"
        problem = check(value[key])
        if problem is not None:
            return f"{key!r} {problem}"
    return None


_FIELD_CHECKS: dict[str, _Check] = {
    # common
    "type": _string,
    "seq": _positive_int,
    "event_id": _id_check(EventID),
    "user_id": _id_check(UserID),
    "thread_id": _id_check(ThreadID),
    "run_id": _id_check(RunID),
    "request_id": _id_check(RequestID),
    "agent_name": _name,
    "timestamp": _timestamp,
    # per type
    "message_id": _id_check(MessageID),
    "reasoning": _string,
    "step": _positive_int,
    "tool_call_id": _id_check(ToolCallID),
    "tool_name": _name,
    "parameters": _object,
    "results": _object,
    "success": _boolean,
    "duration_ms": _non_negative_number,
    "final_response": _string,
    "result": _object,
    "usage": _usage,
    "upgrade": _upgrade,
    "code": _error_code,
    "message": _string,
    "retryable": _boolean,
}


def _field_name(spec: str) -> tuple[str, bool]:
    """``("upgrade", False)`` for ``"upgrade?"``: the name and whether it is required."""
    if spec.endswith(_OPTIONAL):
        return spec[: -len(_OPTIONAL)], False
    return spec, True


_unchecked = {_field_name(spec)[0] for specs in EVENT_FIELDS.values() for spec in specs} | set(
    COMMON_EVENT_FIELDS
)
_unchecked -= set(_FIELD_CHECKS)
if _unchecked or not set(RUN_SCOPED_FIELDS) <= set(COMMON_EVENT_FIELDS):  # pragma: no cover
    raise RuntimeError(f"contract checker has no check for protocol fields {sorted(_unchecked)}")
del _unchecked

_TYPES: dict[str, EventType] = {t.value: t for t in EventType}


# --- the checker


@dataclass
class _Event:
    """What the run checks need from one well-formed-enough event."""

    index: int
    raw: Mapping[str, Any]
    type: EventType | None
    run_id: str | None  # valid RunID or None


def _valid(raw: Mapping[str, Any], field: str) -> bool:
    return field in raw and _FIELD_CHECKS[field](raw[field]) is None


def _where(raw: Mapping[str, Any]) -> str:
    """`` (agent_started of run run_…)`` or less, for field messages."""
    kind = raw.get("type")
    run = raw.get("run_id")
    kind_s = kind if isinstance(kind, str) and kind in _TYPES else None
    run_s = run if isinstance(run, str) else None
    if kind_s and run_s:
        return f" ({kind_s} of run {run_s})"
    if run_s:
        return f" (run {run_s})"
    if kind_s:
        return f" ({kind_s})"
    return ""


def _run_of(raw: Mapping[str, Any]) -> str | None:
    run = raw.get("run_id")
    return run if isinstance(run, str) else None


def _check_fields(index: int, raw: Mapping[str, Any], out: list[Violation]) -> EventType | None:
    where = _where(raw)
    run = _run_of(raw)
    kind: EventType | None = None
    specs: list[str] = list(COMMON_EVENT_FIELDS)
    raw_type = raw.get("type")
    if isinstance(raw_type, str):
        kind = _TYPES.get(raw_type)
        if kind is None:
            out.append(
                Violation(
                    "unknown_type",
                    f"event #{index}: unknown type {raw_type!r}{where}",
                    index,
                    run,
                )
            )
        else:
            specs += EVENT_FIELDS[kind]
    for spec in specs:
        field, required = _field_name(spec)
        if field not in raw:
            if required:
                out.append(
                    Violation(
                        "missing_field",
                        f"event #{index}: missing field {field!r}{where}",
                        index,
                        run,
                    )
                )
            continue
        problem = _FIELD_CHECKS[field](raw[field])
        if problem is not None:
            out.append(
                Violation(
                    "bad_field",
                    f"event #{index}: field {field!r} {problem}{where}",
                    index,
                    run,
                )
            )
    return kind


def _check_event_ids(parsed: Sequence[_Event], out: list[Violation]) -> None:
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
                    f"(first at event #{first_at[event_id]}){_where(raw)}",
                    index,
                    _run_of(raw),
                )
            )
        else:
            first_at[event_id] = index


def _check_seq(parsed: Sequence[_Event], first_seq: int | None, out: list[Violation]) -> None:
    last: dict[str, int] = {}
    for event in parsed:
        index, raw = event.index, event.raw
        if not (_valid(raw, "user_id") and _valid(raw, "seq")):
            continue
        user: str = raw["user_id"]
        seq: int = raw["seq"]
        run = _run_of(raw)
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


def _check_consistency(run_id: str, run: Sequence[_Event], out: list[Violation]) -> None:
    for field in RUN_SCOPED_FIELDS:
        reference: _Event | None = None
        for event in run:
            if not _valid(event.raw, field):
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


def _tool_call_id(event: _Event) -> str | None:
    return event.raw["tool_call_id"] if _valid(event.raw, "tool_call_id") else None


def _check_order(
    run_id: str, run: Sequence[_Event], require_complete: bool, out: list[Violation]
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

    terminal: _Event | None = None
    seen: set[EventType] = set()
    executed: dict[str, _Event] = {}
    completed: dict[str, _Event] = {}
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


def split_runs(events: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The events of each run, keyed by ``run_id`` in order of first appearance.

    Events without a string ``run_id`` (or that are not mappings) are left out.
    """
    runs: dict[str, list[Mapping[str, Any]]] = {}
    for raw in events:
        if isinstance(raw, Mapping):
            run = _run_of(raw)
            if run is not None:
                runs.setdefault(run, []).append(raw)
    return runs


def check_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    first_seq: int | None = None,
) -> list[Violation]:
    """Every contract violation in ``events``, in a stable order (fields, ids, seq, runs).

    ``require_complete``: every run must have its terminal event (turn off to
    check a stream that is still being delivered). ``first_seq``: the seq each
    user's first event must carry (e.g. ``1`` for a user's whole history);
    by default the first seq seen is the base.
    """
    out: list[Violation] = []
    parsed: list[_Event] = []
    for index, item in enumerate(events):
        raw: object = item
        if not isinstance(raw, Mapping):
            out.append(
                Violation(
                    "not_an_object",
                    f"event #{index}: not a JSON object, {_got(raw)}",
                    index,
                    None,
                )
            )
            continue
        kind = _check_fields(index, raw, out)
        run = raw["run_id"] if _valid(raw, "run_id") else None
        parsed.append(_Event(index, raw, kind, run))

    _check_event_ids(parsed, out)
    _check_seq(parsed, first_seq, out)

    runs: dict[str, list[_Event]] = {}
    for event in parsed:
        if event.run_id is not None:
            runs.setdefault(event.run_id, []).append(event)
    for run_id, run in runs.items():
        _check_consistency(run_id, run, out)
        _check_order(run_id, run, require_complete, out)
    return out


def assert_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    first_seq: int | None = None,
) -> None:
    """Raise :class:`ContractViolation` listing every violation :func:`check_events` finds."""
    violations = check_events(events, require_complete=require_complete, first_seq=first_seq)
    if violations:
        raise ContractViolation(violations)
