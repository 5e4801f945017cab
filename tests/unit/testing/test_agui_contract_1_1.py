"""The AG-UI 1.1 rules of the checker, each from the spec's text, and their severity.

Each stream here is written for the rule it tests (none is copied from AG-UI's
conformance corpus): the rule's own words are quoted in the test's docstring.
"""

from __future__ import annotations

from typing import Any

import pytest

from golden_path.testing.agui.contract import (
    RULES,
    WARNING_RULES,
    ContractWarning,
    assert_agui_events,
    check_agui_events,
)
from golden_path.testing.violation import ContractViolation, Violation

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "AG-UI 1.1's rules are what a client holds a producer to; a checker that missed one "
            "would pass an agent whose UI breaks, or fail one that only tripped a tolerance."
        ),
        revenue_impact=(
            "Indirect: teams shipping AG-UI agents trust the harness's verdict and its "
            "error/warning split; no direct revenue."
        ),
    ),
]

Event = dict[str, Any]


def run(*body: Event, thread: str = "t", run_id: str = "r", **finish: Any) -> list[Event]:
    return [
        {"type": "RUN_STARTED", "threadId": thread, "runId": run_id, "protocolVersion": "1.1"},
        *body,
        {"type": "RUN_FINISHED", "threadId": thread, "runId": run_id, **finish},
    ]


def found(events: list[Event], **options: Any) -> list[tuple[str, str]]:
    return [(v.rule, v.severity) for v in check_agui_events(events, **options)]


# -- chunks and ownership


def test_a_continuation_chunk_that_changes_the_role_or_tool_name_is_an_error() -> None:
    """Streaming: a continuation MAY repeat role / toolCallName / parentMessageId, but only
    with the value its opener established; another value is fatal."""
    role = run(
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "role": "assistant", "delta": "a"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "role": "developer", "delta": "b"},
    )
    name = run(
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c", "toolCallName": "get", "delta": "{"},
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c", "toolCallName": "put", "delta": "}"},
    )
    same = run(
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c", "toolCallName": "get", "delta": "{"},
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c", "toolCallName": "get", "delta": "}"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "delta": "a"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "role": "assistant", "delta": "b"},
    )
    assert found(role) == [("chunk_conflict", "error")]
    assert "does not match the open stream's role" in str(check_agui_events(role)[0])
    assert found(name) == [("chunk_conflict", "error")]
    assert found(same) == []


def test_a_continuation_attributed_to_another_subagent_than_its_opener_is_an_error() -> None:
    """Subagents: a continuation whose subagentRunId disagrees with its opener's is rejected;
    one that leaves subagentRunId out inherits the opener's attribution."""
    start = {
        "type": "TOOL_CALL_START",
        "toolCallId": "c",
        "toolCallName": "f",
        "subagentRunId": "a",
    }
    other = run(start, {"type": "TOOL_CALL_END", "toolCallId": "c", "subagentRunId": "b"})
    silent = run(
        start,
        {"type": "TOOL_CALL_ARGS", "toolCallId": "c", "delta": "{}"},
        {"type": "TOOL_CALL_END", "toolCallId": "c", "subagentRunId": "a"},
    )
    chunk = run(
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "delta": "x", "subagentRunId": "a"},
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m", "delta": "y", "subagentRunId": "b"},
    )
    assert found(other) == [("subagent_mismatch", "error")]
    assert found(silent) == []
    assert found(chunk) == [("subagent_mismatch", "error")]  # once, on the expanded event


# -- what the 1.1 schema allows


def test_an_undeclared_property_is_a_warning_and_open_objects_stay_open() -> None:
    """Processing: the 1.1 schema declares every property; an undescribed one is stripped
    with a warning. Metadata, and RFC 6902 operations' extra members, are open."""
    misspelt = run(
        {"type": "STEP_STARTED", "stepName": "s", "stepname": "s"},
        {"type": "STEP_FINISHED", "stepName": "s"},
    )
    success_with_interrupts = run(
        outcome={"type": "success", "interrupts": [{"id": "i", "reason": "approval"}]}
    )
    open_objects = run(
        {"type": "STATE_SNAPSHOT", "snapshot": {"items": [1, 2]}},
        {"type": "STATE_DELTA", "delta": [{"op": "remove", "path": "/items/0", "value": 1}]},
        {"type": "CUSTOM", "name": "n", "value": None, "metadata": {"vendor/x": None}},
    )
    assert found(misspelt) == [("undeclared_property", "warning")]
    [violation] = check_agui_events(success_with_interrupts)
    assert (violation.rule, violation.index) == ("undeclared_property", 1)
    assert "/outcome/interrupts" in violation.message
    assert found(open_objects) == []


def test_null_for_an_optional_field_is_an_error_but_null_data_is_not() -> None:
    """1.1: absent means absent; an optional field is left out, never sent as null. A null
    that is data (a snapshot, a CUSTOM value, a metadata value) is fine."""
    nulled = run(
        {
            "type": "TOOL_CALL_START",
            "toolCallId": "c",
            "toolCallName": "f",
            "parentMessageId": None,
        },
        {"type": "TOOL_CALL_END", "toolCallId": "c"},
    )
    data = run({"type": "STATE_SNAPSHOT", "snapshot": None})
    [violation] = check_agui_events(nulled)
    assert (violation.rule, violation.severity) == ("null_for_absent", "error")
    assert "/parentMessageId" in violation.message
    assert found(data) == []


def test_an_unrecognised_union_member_is_a_warning_a_malformed_value_an_error() -> None:
    """Processing: an unrecognised member of a union (an outcome type, a content part) is
    stripped with a warning; a value of the wrong shape in a described field is fatal."""
    unknown_outcome = run(outcome={"type": "suspended"})
    unknown_part = run(
        {
            "type": "MESSAGES_SNAPSHOT",
            "messages": [
                {
                    "id": "u",
                    "role": "user",
                    "content": [{"type": "text", "text": "a"}, {"type": "sculpture"}],
                }
            ],
        }
    )
    outcome_list = run(outcome=[{"type": "success"}])
    assert found(unknown_outcome) == [("unknown_member", "warning")]
    assert found(unknown_part) == [("unknown_member", "warning")]
    assert "/messages/0/content/1" in check_agui_events(unknown_part)[0].message
    assert ("invalid_event", "error") in found(outcome_list)


def test_encrypted_value_type_is_declared_in_1_1_and_must_be_a_string() -> None:
    """1.1 adds encryptedValueType to REASONING_ENCRYPTED_VALUE."""
    base = {
        "type": "REASONING_ENCRYPTED_VALUE",
        "subtype": "message",
        "entityId": "m",
        "encryptedValue": "b3BhcXVl",
    }
    assert found(run({**base, "encryptedValueType": "vendor-sealed"})) == []
    assert found(run({**base, "encryptedValueType": 7})) == [("invalid_event", "error")]
    assert found(run({**base, "encryptedValueType": ""})) == [("invalid_event", "error")]


# -- state and activities


def test_a_state_delta_that_does_not_apply_warns_and_the_state_is_kept_whole() -> None:
    """Snapshots: a patch applies as a whole (RFC 6902) to the state the stream built; one
    that does not apply is reported, and the state stays as it was."""
    events = run(
        {"type": "STATE_SNAPSHOT", "snapshot": {"n": 1}},
        {
            "type": "STATE_DELTA",
            "delta": [
                {"op": "replace", "path": "/n", "value": 2},
                {"op": "replace", "path": "/gone/x", "value": 0},
            ],
        },
        {"type": "STATE_DELTA", "delta": [{"op": "test", "path": "/n", "value": 1}]},
        {"type": "STATE_DELTA", "delta": [{"op": "test", "path": "/n", "value": 2}]},
    )
    violations = check_agui_events(events)
    assert [(v.rule, v.index, v.severity) for v in violations] == [
        ("patch_not_applicable", 2, "warning"),
        ("patch_not_applicable", 4, "warning"),
    ]


def test_an_unknown_patch_operation_is_dropped_and_the_rest_applies() -> None:
    events = run(
        {"type": "STATE_SNAPSHOT", "snapshot": {"n": 1}},
        {
            "type": "STATE_DELTA",
            "delta": [{"op": "bump", "path": "/n"}, {"op": "replace", "path": "/n", "value": 5}],
        },
        {"type": "STATE_DELTA", "delta": [{"op": "test", "path": "/n", "value": 5}]},
    )
    assert found(events) == [("unknown_member", "warning")]


def test_an_activity_delta_needs_its_snapshot_first() -> None:
    """Activity: an ACTIVITY_DELTA for an activity no snapshot created is skipped, not fatal;
    after the snapshot, its patch applies to the activity's content."""
    delta = {
        "type": "ACTIVITY_DELTA",
        "messageId": "a",
        "activityType": "search",
        "patch": [{"op": "replace", "path": "/hits", "value": 3}],
    }
    snapshot = {
        "type": "ACTIVITY_SNAPSHOT",
        "messageId": "a",
        "activityType": "search",
        "content": {"hits": 0},
    }
    assert found(run(delta)) == [("activity_without_snapshot", "warning")]
    assert found(run(snapshot, delta)) == []
    bad = {**delta, "patch": [{"op": "remove", "path": "/nothing"}]}
    assert found(run(snapshot, bad)) == [("patch_not_applicable", "warning")]


def test_an_activity_snapshot_with_replace_false_leaves_the_activity_as_it_was() -> None:
    """Activity: replace: false on an existing activity keeps its content; a later delta
    patches the content the first snapshot set."""
    first = {
        "type": "ACTIVITY_SNAPSHOT",
        "messageId": "a",
        "activityType": "search",
        "content": {"hits": 0},
    }
    kept = {**first, "content": {"other": 1}, "replace": False}
    replaced = {**first, "content": {"other": 1}}
    delta = {
        "type": "ACTIVITY_DELTA",
        "messageId": "a",
        "activityType": "search",
        "patch": [{"op": "test", "path": "/hits", "value": 0}],
    }
    assert found(run(first, kept, delta)) == []
    assert found(run(first, replaced, delta)) == [("patch_not_applicable", "warning")]


# -- runs, interrupts, versions


def test_interrupt_ids_are_unique_within_the_run() -> None:
    """A resume entry answers an interrupt by its id, so two interrupts of a run need two."""
    twice = run(
        outcome={
            "type": "interrupt",
            "interrupts": [{"id": "i", "reason": "approval"}, {"id": "i", "reason": "input"}],
        }
    )
    once = run(outcome={"type": "interrupt", "interrupts": [{"id": "i", "reason": "approval"}]})
    assert found(twice) == [("interrupt_id_duplicate", "error")]
    assert found(once) == []


def test_pending_tool_call_ids_name_exactly_the_calls_left_open() -> None:
    """pendingToolCallIds: the calls the run started and left unanswered, in order; when
    given, it agrees with the stream."""
    calls = [
        {"type": "TOOL_CALL_START", "toolCallId": "a", "toolCallName": "f"},
        {"type": "TOOL_CALL_END", "toolCallId": "a"},
        {"type": "TOOL_CALL_START", "toolCallId": "b", "toolCallName": "f"},
        {"type": "TOOL_CALL_END", "toolCallId": "b"},
        {"type": "TOOL_CALL_RESULT", "messageId": "m", "toolCallId": "a", "content": "ok"},
    ]
    right = run(*calls, outcome={"type": "success", "pendingToolCallIds": ["b"]})
    wrong = run(*calls, outcome={"type": "success", "pendingToolCallIds": ["a", "b"]})
    assert found(right) == []
    assert found(wrong) == [("pending_tool_calls_mismatch", "error")]
    unanswered = calls[:4]  # neither call answered: both pending, in the order they were made
    in_order = run(*unanswered, outcome={"type": "success", "pendingToolCallIds": ["a", "b"]})
    reversed_ = run(*unanswered, outcome={"type": "success", "pendingToolCallIds": ["b", "a"]})
    assert found(in_order) == []
    assert found(reversed_) == [("pending_tool_calls_mismatch", "error")]


def test_a_later_run_of_the_stream_keeps_the_first_runs_thread() -> None:
    assert found(run(thread="t") + run(thread="t", run_id="r2")) == []
    assert found(run(thread="t") + run(thread="u", run_id="r2")) == [("thread_changed", "error")]
    # Asked for thread t, the other thread is already the run the client did not ask for.
    assert found(run(thread="t") + run(thread="u", run_id="r2"), thread_id="t") == [
        ("inconsistent_id", "error")
    ]


def test_protocol_version_is_major_minor_and_required_only_when_asked() -> None:
    """Versioning: a 1.0 producer MUST declare its version as MAJOR.MINOR; a consumer
    proceeds on one it cannot interpret, or a newer one, and warns."""

    def declaring(version: Any) -> list[Event]:
        events = run()
        if version is None:
            del events[0]["protocolVersion"]
        else:
            events[0]["protocolVersion"] = version
        return events

    assert found(declaring("1.0")) == found(declaring("1.1")) == []
    assert found(declaring(None)) == []
    assert found(declaring(None), require_protocol_version=True) == [
        ("protocol_version_missing", "error")
    ]
    assert found(declaring("draft")) == [("protocol_version_unknown", "warning")]
    assert found(declaring("1.0.3")) == [("protocol_version_unknown", "warning")]
    assert found(declaring("1.2")) == [("protocol_version_unknown", "warning")]


def test_a_resumed_run_may_answer_a_call_its_paused_run_made() -> None:
    """Interrupts: the run that resumes after an approval sends the TOOL_CALL_RESULT of the
    call the paused run made, in the same stream or in the next one."""
    paused = run(
        {"type": "TOOL_CALL_START", "toolCallId": "c", "toolCallName": "pay"},
        {"type": "TOOL_CALL_END", "toolCallId": "c"},
        outcome={
            "type": "interrupt",
            "interrupts": [{"id": "i", "reason": "approval", "toolCallId": "c"}],
        },
    )
    result = {"type": "TOOL_CALL_RESULT", "messageId": "m", "toolCallId": "c", "content": "ok"}
    resumed = run(result, run_id="r2")
    assert found(paused + resumed) == []
    assert found(resumed, prior_tool_calls={"c"}) == []
    echoed = [
        dict(
            resumed[0],
            input={
                "threadId": "t",
                "runId": "r2",
                "messages": [
                    {
                        "id": "a",
                        "role": "assistant",
                        "toolCalls": [
                            {
                                "id": "c",
                                "type": "function",
                                "function": {"name": "pay", "arguments": "{}"},
                            }
                        ],
                    }
                ],
            },
        ),
        *resumed[1:],
    ]
    assert found(echoed) == []
    assert found(resumed) == [("tool_result_unknown_call", "error")]


# -- severity


def test_assert_fails_on_errors_and_reports_warnings_and_strict_fails_on_both() -> None:
    warned = run({"type": "FUTURE_EVENT"})
    with pytest.warns(ContractWarning, match="unknown_type"):
        assert_agui_events(warned)
    with pytest.raises(ContractViolation, match=r"unknown_type \(warning\)"):
        assert_agui_events(warned, strict=True)
    with pytest.raises(ContractViolation, match="thread_changed"):
        assert_agui_events(run() + run(thread="u", run_id="r2"))


def test_every_rule_is_documented_and_warnings_are_a_subset_of_the_rules() -> None:
    assert set(RULES) >= WARNING_RULES
    assert Violation("r", "m", None, None).severity == "error"  # protocol v1 is unaffected
