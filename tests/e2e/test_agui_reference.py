"""The reference server speaks AG-UI: ``POST /agui`` streams a run of the server (protocol §12).

An AG-UI run is an ordinary run: judged by the AG-UI contract on the wire, and
then found where every run is found (``GET /runs/{id}``, ``GET /events``, the
thread, the usage ledger, a socket of the same user), billed once, refused with
the v1 error codes. The AG-UI ids the client chose are echoed; the server's own
are in ``metadata["golden_path"]`` of ``RUN_STARTED``.

Here only what needs golden-path's reference server itself (a second node, other
settings, its services); what any server must pass ships in the package, in
``golden_path/conformance/v1/test_agui_reference.py``.
"""

from __future__ import annotations

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import QUESTION, WAIT_S
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.agui_helpers import started
from golden_path.protocol import EventType
from golden_path.server.agui.mapping import AGUI_PATH
from golden_path.testing.agui.client import AGUIClient
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("events"),
    bvj.AGUI_REFERENCE,
]


@pytest.mark.reference_only
async def test_a_client_that_disconnects_mid_run_leaves_the_run_to_finish_in_history(
    slow_server: ServerEndpoint, gp_user, connect_to, gp_api: GoldenPathHTTP
) -> None:
    user = await gp_user(Tier.MID)
    sock = await connect_to(slow_server, user)  # sees the run go on after the disconnect
    ui = AGUIClient(slow_server.base_url + AGUI_PATH, token=user.access_token)
    async with ui, ui.stream(QUESTION) as stream:
        async for event in stream:
            if event["type"] == AGUIType.RUN_STARTED:
                break
    cut = stream.run
    assert cut.closed_early
    assert cut.violations() == []  # a valid beginning of a run
    run_id = started(cut)["run_id"]
    end = await sock.wait_for(
        lambda f: f.get("run_id") == run_id and f.get("type") == EventType.AGENT_COMPLETED.value,
        timeout=WAIT_S,
        what=f"the end of run {run_id} after its AG-UI client left",
    )
    stored = await gp_api.run(user.access_token, run_id)
    assert stored["status"] == "succeeded"
    assert stored["events"][-1]["event_id"] == end["event_id"]
