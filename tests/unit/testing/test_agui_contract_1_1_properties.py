"""Property tests of the AG-UI 1.1 rules: each single mutation of a valid stream is caught
exactly, with the severity its rule has."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from golden_path.testing.agui.contract import assert_agui_events, check_agui_events
from golden_path.testing.agui.schema import MODELS
from golden_path.testing.agui.strategies import agui_runs, agui_streams
from golden_path.testing.violation import ContractViolation, ContractWarning

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "Shows the AG-UI 1.1 rules catch their corruption wherever it lands in a stream, "
            "and that what clients merely tolerate warns instead of failing a working agent."
        ),
        revenue_impact="Indirect: trustworthy AG-UI verdicts on customers' own agents.",
    ),
]

Event = dict[str, Any]
TERMINALS = ("RUN_FINISHED", "RUN_ERROR")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTINUATIONS = {
    "TEXT_MESSAGE_CONTENT",
    "TEXT_MESSAGE_END",
    "TOOL_CALL_ARGS",
    "TOOL_CALL_END",
    "REASONING_MESSAGE_CONTENT",
    "REASONING_MESSAGE_END",
    "REASONING_END",
}


def found(events: list[Event], **options: Any) -> set[tuple[str, int | None, str]]:
    return {(v.rule, v.index, v.severity) for v in check_agui_events(events, **options)}


@FAST
@given(agui_runs(), st.data())
def test_an_undeclared_property_anywhere_is_a_warning_that_does_not_fail(
    run: list[Event], data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(run) - 1))
    assume(run[pos]["type"] in MODELS)
    mutated = copy.deepcopy(run)
    mutated[pos]["futureField"] = data.draw(st.integers() | st.text(max_size=3))
    assert found(mutated) == {("undeclared_property", pos, "warning")}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert_agui_events(mutated)
    assert [w.category for w in seen] == [ContractWarning]
    with pytest.raises(ContractViolation):
        assert_agui_events(mutated, strict=True)


@FAST
@given(agui_runs(), st.data())
def test_null_for_an_optional_field_anywhere_is_an_error(
    run: list[Event], data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(run) - 1))
    assume(run[pos]["type"] in MODELS)
    mutated = copy.deepcopy(run)
    mutated[pos]["timestamp"] = None
    assert found(mutated) == {("null_for_absent", pos, "error")}


@FAST
@given(agui_runs(), st.data())
def test_a_continuation_claimed_by_another_subagent_is_caught(
    run: list[Event], data: st.DataObject
) -> None:
    positions = [i for i, e in enumerate(run) if e["type"] in CONTINUATIONS]
    assume(positions)
    pos = data.draw(st.sampled_from(positions))
    mutated = copy.deepcopy(run)
    mutated[pos]["subagentRunId"] = "someone-else"
    assert found(mutated) == {("subagent_mismatch", pos, "error")}


@FAST
@given(agui_streams(max_runs=3), st.data())
def test_a_later_run_on_another_thread_is_caught(stream: list[Event], data: st.DataObject) -> None:
    starts = [i for i, e in enumerate(stream) if e["type"] == "RUN_STARTED"][1:]
    assume(starts)
    pos = data.draw(st.sampled_from(starts))
    mutated = copy.deepcopy(stream)
    old = mutated[pos]["threadId"]
    end = next(i for i in range(pos, len(mutated)) if mutated[i]["type"] in TERMINALS)
    for i in (pos, end):  # the run stays consistent with itself: only the thread moved
        if mutated[i].get("threadId") == old:
            mutated[i]["threadId"] = old + "-other"
    assert ("thread_changed", pos, "error") in found(mutated)
    assert {rule for rule, _, _ in found(mutated)} == {"thread_changed"}
