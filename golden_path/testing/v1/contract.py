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

from collections.abc import Mapping, Sequence
from typing import Any

from golden_path.testing.v1.fields import Event, check_fields, got, run_of, valid
from golden_path.testing.v1.rules import check_consistency, check_event_ids, check_order, check_seq
from golden_path.testing.violation import ContractViolation, Violation

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


def split_runs(events: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The events of each run, keyed by ``run_id`` in order of first appearance.

    Events without a string ``run_id`` (or that are not mappings) are left out.
    """
    runs: dict[str, list[Mapping[str, Any]]] = {}
    for raw in events:
        if isinstance(raw, Mapping):
            run = run_of(raw)
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
    parsed: list[Event] = []
    for index, item in enumerate(events):
        raw: object = item
        if not isinstance(raw, Mapping):
            out.append(
                Violation(
                    "not_an_object",
                    f"event #{index}: not a JSON object, {got(raw)}",
                    index,
                    None,
                )
            )
            continue
        kind = check_fields(index, raw, out)
        run = raw["run_id"] if valid(raw, "run_id") else None
        parsed.append(Event(index, raw, kind, run))

    check_event_ids(parsed, out)
    check_seq(parsed, first_seq, out)

    runs: dict[str, list[Event]] = {}
    for event in parsed:
        if event.run_id is not None:
            runs.setdefault(event.run_id, []).append(event)
    for run_id, run in runs.items():
        check_consistency(run_id, run, out)
        check_order(run_id, run, require_complete, out)
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
