"""Interrupts, as AG-UI 1.0 defines them: a run that pauses for approval, and the run that
resumes it (``--gp-protocol=ag-ui --gp-url``).

A server pauses a run with ``RUN_FINISHED`` carrying ``outcome: {"type": "interrupt",
"interrupts": [...]}``; the next run on the thread answers each interrupt in
``RunAgentInput.resume[]`` and continues (approved) or ends (denied) the same work.
``GOLDEN_PATH_AGUI_INTERRUPT_PROMPT`` is a prompt that makes the server pause (the
pydantic-ai example pauses on a transfer). A server that does not pause on it is
skipped, saying so: interrupts are optional in AG-UI.
"""

from __future__ import annotations

import os
import uuid

import pytest

from golden_path.testing.agui.client import AGUIClient, AGUIRun

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "An agent that spends money or acts for the user asks first: a UI built on AG-UI "
            "shows the approval and resumes the run. A server that paused without a valid "
            "interrupt, or lost the work on resume, would leave the user's action undone or "
            "done twice."
        ),
        revenue_impact=(
            "Approval flows are what teams gate costly tools with before they ship them to "
            "paying users; the harness checks the whole pause-and-resume journey."
        ),
    ),
]

INTERRUPT_PROMPT = os.environ.get(
    "GOLDEN_PATH_AGUI_INTERRUPT_PROMPT", "Please transfer 500 USD to Alice."
)


async def paused_run(agui: AGUIClient) -> AGUIRun:
    run = await agui.run(INTERRUPT_PROMPT, thread_id=f"thread-{uuid.uuid4()}")
    run.assert_contract()
    if not run.interrupts:
        pytest.skip(
            f"the server did not pause on {INTERRUPT_PROMPT!r} (its RUN_FINISHED outcome is "
            f"{(run.terminal or {}).get('outcome')!r}); set GOLDEN_PATH_AGUI_INTERRUPT_PROMPT "
            "to a prompt that makes it ask for approval"
        )
    ids = [i["id"] for i in run.interrupts]
    assert len(set(ids)) == len(ids), f"interrupt ids repeat: {ids}"
    return run


async def test_an_approved_interrupt_resumes_the_same_work_to_its_end(
    gp_agui: AGUIClient,
) -> None:
    paused = await paused_run(gp_agui)
    asked = {str(i["toolCallId"]) for i in paused.interrupts if i.get("toolCallId") is not None}
    resumed = await gp_agui.resume(paused, approve=True)
    resumed.assert_contract()
    assert resumed.thread_id == paused.thread_id
    assert resumed.terminal is not None
    assert resumed.terminal["type"] == "RUN_FINISHED", resumed.terminal
    assert not resumed.interrupts, f"the approved run paused again: {resumed.interrupts}"
    answered: set[str] = {str(c["toolCallId"]) for c in paused.tool_calls} | asked
    results = [e for e in resumed.events if e.get("type") == "TOOL_CALL_RESULT"]
    assert {e["toolCallId"] for e in results} & answered, (
        f"the resumed run sent no result for the approved call(s) {sorted(answered)}: "
        f"{resumed.types}"
    )


async def test_a_denied_interrupt_ends_the_work_without_pausing_again(
    gp_agui: AGUIClient,
) -> None:
    paused = await paused_run(gp_agui)
    resumed = await gp_agui.resume(paused, approve=False)
    resumed.assert_contract()
    assert resumed.terminal is not None
    assert resumed.terminal["type"] == "RUN_FINISHED", resumed.terminal
    assert not resumed.interrupts, f"the denied run paused again: {resumed.interrupts}"
