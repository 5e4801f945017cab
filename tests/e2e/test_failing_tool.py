"""A tool that raises reaches the client as failed, in both protocols, end to end.

The server runs an agent whose reasoner plans a tool call the tool cannot take
(a model it has no price for): the tool raises inside the run, the agent turns
that into a failed outcome, and the run still ends with an answer. Over
protocol v1 the socket sees ``tool_completed`` with ``success: false`` and the
error; over AG-UI the tool's ``TOOL_CALL_RESULT`` carries the error in its
content and ``success: false`` in its metadata. Nothing here is mocked: a real
server, real sockets, real PostgreSQL and Redis, with another agent plugged in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.agent import (
    AgentRequest,
    DeterministicReasoner,
    Plan,
    SpendOptimizationAgent,
    ToolCall,
)
from golden_path.client import GoldenPathHTTP
from golden_path.protocol import EventType
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.server.app import create_app
from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from golden_path.testing.agui.client import AGUIClient
from golden_path.testing.agui.contract import Stage
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.server.reference import reference_settings
from golden_path.testing.v1.contract import assert_events
from golden_path.tiers import Tier, Tool

pytestmark = [
    pytest.mark.reference_only,
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact=(
            "When a tool breaks, the user sees that step failed and why, and still gets the "
            "rest of the answer, instead of a spinner or a result that pretends to be whole."
        ),
        revenue_impact=(
            "A failure shown as a success is a wrong number in a customer's spend report; "
            "that is what makes a paying team stop trusting the product."
        ),
    ),
]

UNPRICED = "no-such-model"
QUESTION = "We use gpt-4o at 2M tokens/day. How can we save?"


class UnpricedModelReasoner(DeterministicReasoner):
    """Plans ``usage_analyzer`` for a model it has no price for, so the tool raises."""

    def plan(self, request: AgentRequest) -> Plan:
        planned = super().plan(request)
        unpriced = ToolCall(Tool.USAGE_ANALYZER, {"models": [UNPRICED]})
        return Plan(thoughts=planned.thoughts, calls=(unpriced,))


@pytest.fixture(scope="module")
def failing_tool_server(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A node on the worker's services whose agent's tool raises on every run."""
    settings = reference_settings(gp_services)
    agent = SpendOptimizationAgent(UnpricedModelReasoner())
    thread = ServerThread(app=create_app(settings, agent=agent)).start()
    try:
        yield ServerEndpoint(thread.base_url, thread.ws_url, settings, thread)
    finally:
        thread.stop()


async def test_a_tool_that_raises_is_failed_on_the_socket_and_in_ag_ui(
    failing_tool_server: ServerEndpoint, gp_user, connect_to, gp_api: GoldenPathHTTP
) -> None:
    user = await gp_user(Tier.MID)

    # Protocol v1: tool_completed says success false, with the tool's error.
    sock = await connect_to(failing_tool_server, user)
    v1 = await sock.ask(QUESTION)
    assert_events(v1.events)
    (done,) = [e for e in v1.events if e["type"] == EventType.TOOL_COMPLETED.value]
    assert done["success"] is False
    assert done["tool_name"] == Tool.USAGE_ANALYZER.value
    assert f"unknown models: {UNPRICED}" in done["results"]["error"]
    assert v1.terminal["type"] == EventType.AGENT_COMPLETED.value
    assert "usage_analyzer step failed" in v1.terminal["final_response"]
    assert v1.terminal["result"]["failed_tools"] == [Tool.USAGE_ANALYZER.value]

    # AG-UI: the same failure in the tool's result, on a run that still finishes.
    async with AGUIClient(failing_tool_server.base_url + AGUI_PATH, token=user.access_token) as ui:
        run = await ui.run(QUESTION)
    run.assert_contract(stages=[Stage.TOOL_EXECUTING, Stage.TOOL_COMPLETED, Stage.COMPLETED])
    (result,) = [e for e in run.events if e["type"] == AGUIType.TOOL_CALL_RESULT]
    content = json.loads(result["content"])
    assert f"unknown models: {UNPRICED}" in content["error"]
    assert result["metadata"][METADATA_KEY]["success"] is False
    assert "usage_analyzer step failed" in run.text

    # Both runs are persisted as they were streamed.
    run_id = run.events[0]["metadata"][METADATA_KEY]["run_id"]
    stored = await gp_api.run(user.access_token, run_id)
    (persisted,) = [e for e in stored["events"] if e["type"] == EventType.TOOL_COMPLETED.value]
    assert persisted["success"] is False
    assert persisted["results"] == content
