"""The AG-UI event contract, checked over a list of events, and the golden path read from it.

AG-UI (the open Agent–User Interaction protocol) streams an agent run as JSON
events: ``RUN_STARTED``, ``TEXT_MESSAGE_*``, ``TOOL_CALL_*``, ``REASONING_*``,
``STEP_*``, ... and ``RUN_FINISHED`` or ``RUN_ERROR``. ``check_agui_events``
takes events as the wire carries them (camelCase JSON objects) and returns
every way they break the contract; ``assert_agui_events`` raises
:class:`~golden_path.testing.violation.ContractViolation` listing them all,
exactly like the protocol v1 checker (:mod:`golden_path.testing.v1.contract`).
The checker is pure: no I/O, no clock, no global state.

Three layers:

1. **Each event** is validated by the official ``ag-ui-protocol`` package's
   own pydantic model for its type (wire names only: ``messageId``, not
   ``message_id``). Nothing of the schema is copied here.
2. **The sequence rules** of the AG-UI clients' own verifier
   (``verifyEvents`` in npm ``@ag-ui/client`` 1.0), after the chunk events
   (``TEXT_MESSAGE_CHUNK``, ``TOOL_CALL_CHUNK``, ``REASONING_MESSAGE_CHUNK``)
   are expanded as that client's ``transformChunks`` does (see
   :func:`expand_chunks`), plus two of golden-path's own: a
   ``TOOL_CALL_RESULT`` must answer a started call, and one run keeps one
   ``threadId``/``runId``. The deprecated ``THINKING_*`` events of AG-UI 0.x
   are still recognised and paired as the 0.x verifier paired them.
   AG-UI 1.1's rules join them: continuations keep their opener's
   role/toolCallName/attribution, no undeclared property, no ``null`` for an
   optional field, no unrecognised union member, patches that apply to the
   state the stream built, unique interrupt ids, ``pendingToolCallIds`` that
   agree with the stream, one thread per stream, a ``MAJOR.MINOR``
   ``protocolVersion``.
3. **The golden path** on top: :func:`read_stages` reads the five stages of
   a run (started, thinking, tool executing, tool completed, completed or
   error) from its events, and ``stages=`` demands the ones a journey must
   show.

Every :class:`~golden_path.testing.violation.Violation` carries a stable ``rule`` (see
:data:`RULES`); messages name the rule's subject, its ids and the event's index
into the list given, e.g. ``run r1: TEXT_MESSAGE_CONTENT m1 without
TEXT_MESSAGE_START (event #4)``. Events that are not objects, name no AG-UI
event or fail their model get that violation and take no part in the sequence
checks. Where the verifier stops at its first error, this checker goes on and
reports every violation. Each has a ``severity``: ``"error"`` where the stream
breaks a MUST, ``"warning"`` where a conforming client tolerates it (drops,
strips or skips the material): :data:`WARNING_RULES`. ``assert_agui_events``
fails on errors and reports warnings (``strict=True`` fails on both).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from golden_path.testing.agui.chunks import expand, expand_chunks
from golden_path.testing.agui.rules import Checker
from golden_path.testing.agui.schema import LEGACY_THINKING_TYPES, validated
from golden_path.testing.agui.stages import Stage, read_stages, stage_items
from golden_path.testing.violation import (
    ContractViolation,
    ContractWarning,
    Severity,
    Violation,
    report_warnings,
)

__all__ = [
    "LEGACY_THINKING_TYPES",
    "RULES",
    "WARNING_RULES",
    "ContractWarning",
    "Stage",
    "assert_agui_events",
    "check_agui_events",
    "expand_chunks",
    "read_stages",
    "severity",
]

RULES: Mapping[str, str] = {
    "not_an_object": "an event is not a JSON object",
    "unknown_type": "the event's type names no AG-UI event (a client drops it: warning)",
    "invalid_event": "an event fails the ag-ui-protocol model of its type",
    "unknown_member": "an unrecognised union member, e.g. an outcome or content part type "
    "AG-UI does not define (a client strips it: warning)",
    "undeclared_property": "a property the AG-UI schema does not declare (a client strips it: "
    "warning)",
    "null_for_absent": "null sent for an optional field: AG-UI 1.1 says absent means absent",
    "chunk_without_id": "a chunk that opens a message or tool call lacks its id or tool name",
    "chunk_conflict": "a continuation chunk repeats role/toolCallName/parentMessageId with a "
    "value its opener did not establish",
    "subagent_mismatch": "a continuation names a subagentRunId other than its opener's",
    "run_not_started": "the stream does not begin with RUN_STARTED (or RUN_ERROR), or is empty",
    "run_already_active": "RUN_STARTED while a run is still active",
    "after_terminal": "an event follows RUN_ERROR, or a non-RUN_ERROR event follows RUN_FINISHED",
    "inconsistent_id": "a run's RUN_FINISHED or RUN_STARTED names another threadId/runId",
    "message_already_started": "TEXT_MESSAGE_START for a messageId already open",
    "message_not_started": "TEXT_MESSAGE_CONTENT/END for a messageId that is not open",
    "message_not_ended": "RUN_FINISHED while a text message is still open",
    "empty_delta": "a content delta is the empty string (only with non_empty_deltas=True)",
    "tool_call_already_started": "TOOL_CALL_START for a toolCallId already open",
    "tool_call_not_started": "TOOL_CALL_ARGS/END for a toolCallId that is not open",
    "tool_call_not_ended": "RUN_FINISHED while a tool call is still open",
    "tool_result_unknown_call": "TOOL_CALL_RESULT for a toolCallId no TOOL_CALL_START opened "
    "(in the stream, the input's messages, or prior_tool_calls)",
    "thread_changed": "a later run of the stream names another threadId than the first",
    "protocol_version_missing": "RUN_STARTED declares no protocolVersion "
    "(only with require_protocol_version=True)",
    "protocol_version_unknown": "protocolVersion is not MAJOR.MINOR, or newer than 1.1 "
    "(a client proceeds and warns: warning)",
    "interrupt_id_duplicate": "an interrupt outcome names one interrupt id twice",
    "pending_tool_calls_mismatch": "pendingToolCallIds differs from the calls the run left open",
    "activity_without_snapshot": "ACTIVITY_DELTA for an activity no ACTIVITY_SNAPSHOT created "
    "(a client skips it: warning)",
    "patch_not_applicable": "a STATE_DELTA/ACTIVITY_DELTA patch does not apply (RFC 6902) to the "
    "state the stream built (a client keeps its state: warning)",
    "step_already_started": "STEP_STARTED for a step name already open",
    "step_not_started": "STEP_FINISHED for a step name that is not open",
    "step_not_finished": "RUN_FINISHED while a step is still open",
    "reasoning_already_started": "a reasoning (or thinking) span or message opened twice",
    "reasoning_not_started": "a reasoning (or thinking) event for a span or message not open",
    "reasoning_not_ended": "RUN_FINISHED while a reasoning span or message is still open",
    "subagent_already_started": "SUBAGENT_STARTED for a subagentRunId already used in the run",
    "subagent_not_started": "SUBAGENT_FINISHED/ERROR (or a parent) names no started subagent",
    "subagent_not_finished": "RUN_FINISHED while a subagent is still active",
    "no_terminal": "the stream ends with a run still active (require_complete=True)",
    "missing_stage": "the stream does not show a golden-path stage the test requires",
}

# The rules clients tolerate (they drop, strip or skip the material, and warn): warnings.
# Every other rule breaks a MUST and is an error.
WARNING_RULES: frozenset[str] = frozenset(
    {
        "unknown_type",
        "unknown_member",
        "undeclared_property",
        "protocol_version_unknown",
        "activity_without_snapshot",
        "patch_not_applicable",
    }
)


def severity(rule: str) -> Severity:
    """``"warning"`` for a rule clients tolerate, ``"error"`` for one that breaks a MUST."""
    return "warning" if rule in WARNING_RULES else "error"


def check_agui_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    thread_id: str | None = None,
    run_id: str | None = None,
    stages: Collection[Stage | str] = (),
    non_empty_deltas: bool = False,
    require_protocol_version: bool = False,
    prior_tool_calls: Collection[str] = (),
) -> list[Violation]:
    """Every AG-UI contract violation in ``events``, in a stable order (events, then sequence).

    ``require_complete``: the stream must end its last run (turn off for a stream still
    arriving, or one the client cut). ``thread_id`` / ``run_id``: every ``RUN_STARTED``
    must name these (the ids of the ``RunAgentInput`` the client sent). ``stages``: the
    golden-path stages (:class:`Stage` or their names) the stream must show, e.g.
    ``{Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED}`` for "a tool ran and completed".
    ``non_empty_deltas``: also flag empty content deltas, which AG-UI 0.x forbade and
    1.0 allows (see docs/testing.md). ``require_protocol_version``: a ``RUN_STARTED``
    must declare ``protocolVersion`` (AG-UI 1.0 producers MUST; older ones cannot).
    ``prior_tool_calls``: tool call ids started in the thread's earlier streams (a run
    resumed after an interrupt answers a call its paused run made). Each violation's
    ``severity`` is ``"error"`` or ``"warning"`` (see :data:`WARNING_RULES`).
    """
    wanted = [Stage(s) for s in stages]
    out: list[Violation] = []
    valid = validated(events, out)
    items = expand(valid, out)
    checker = Checker(
        out,
        thread_id=thread_id,
        run_id=run_id,
        non_empty_deltas=non_empty_deltas,
        require_protocol_version=require_protocol_version,
        prior_tool_calls=prior_tool_calls,
    )
    for item in items:
        checker.feed(item)
    checker.finish(require_complete, items[-1] if items else None)
    if wanted:
        shown = {stage for _, stage in stage_items(items)}
        missing = [s.value for s in wanted if s not in shown]
        if missing:
            last = items[-1] if items else None
            seen = ", ".join(s.value for s in read_stages(events)) or "no stage"
            where = f" (last event #{last.index})" if last is not None else ""
            out.append(
                Violation(
                    "missing_stage",
                    f"the stream shows {seen} but not {' and '.join(missing)}{where}",
                    last.index if last is not None else None,
                    checker.run_label(),
                )
            )
    return [replace(v, severity=severity(v.rule)) for v in out]


def assert_agui_events(
    events: Sequence[Mapping[str, Any]],
    *,
    require_complete: bool = True,
    thread_id: str | None = None,
    run_id: str | None = None,
    stages: Collection[Stage | str] = (),
    non_empty_deltas: bool = False,
    require_protocol_version: bool = False,
    prior_tool_calls: Collection[str] = (),
    strict: bool = False,
) -> None:
    """Raise :class:`ContractViolation` when :func:`check_agui_events` finds an error.

    Warnings (rules clients tolerate) are reported as :class:`ContractWarning` (pytest
    lists them) and do not fail, unless ``strict=True``, which fails on them too. The
    error lists every violation found, errors first.
    """
    violations = check_agui_events(
        events,
        require_complete=require_complete,
        thread_id=thread_id,
        run_id=run_id,
        stages=stages,
        non_empty_deltas=non_empty_deltas,
        require_protocol_version=require_protocol_version,
        prior_tool_calls=prior_tool_calls,
    )
    errors = [v for v in violations if v.severity == "error"]
    if errors or (strict and violations):
        raise ContractViolation(errors + [v for v in violations if v.severity != "error"])
    report_warnings(violations)
