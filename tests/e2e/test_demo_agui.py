"""``golden-path demo``'s AG-UI journey against the server under test finds nothing wrong."""

from __future__ import annotations

import io

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.demo import Demo, Journey, summary
from golden_path.protocol import ErrorCode
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "The demo shows an evaluating team their AG-UI client on the server; a journey "
            "that reports problems, or none when there are some, misleads them."
        ),
        revenue_impact="The demo is how teams evaluate the product before they pay.",
    ),
]


async def test_the_agui_journey_streams_a_valid_run_that_is_persisted_and_billed_once(
    gp_server: ServerEndpoint, gp_api: GoldenPathHTTP
) -> None:
    out = io.StringIO()
    journey = Journey(Tier.EARLY, name="ag-ui")
    await Demo(gp_server.base_url, gp_server.ws_url, out).agui_journey(gp_api, journey)
    assert journey.problems == []
    assert journey.runs == 1
    assert dict(journey.refused) == {ErrorCode.MESSAGE_TOO_LONG.value: 1}
    printed = out.getvalue()
    assert AGUIType.TOOL_CALL_RESULT.value in printed
    assert "billed once" in printed
    assert summary([journey]).splitlines()[2].startswith("ag-ui ")


async def test_the_approval_journey_pauses_then_completes_one_run_billed_once(
    gp_server: ServerEndpoint, gp_api: GoldenPathHTTP
) -> None:
    out = io.StringIO()
    journey = Journey(Tier.ENTERPRISE, name="approval")
    await Demo(gp_server.base_url, gp_server.ws_url, out).approval_journey(gp_api, journey)
    assert journey.problems == []
    assert journey.runs == 1  # the pause and its answer are one run of the server
    printed = out.getvalue()
    assert "the run pauses: " in printed
    assert printed.count(AGUIType.RUN_FINISHED.value) == 2  # paused, then finished
    assert "approved and completed as run run_" in printed
    assert "billed once" in printed
