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

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import WAIT_S
from golden_path.conformance.v1 import bvj
from golden_path.protocol import EventType
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.testing.agui.client import AGUIClient, AGUIRun
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.stage("events"),
    bvj.AGUI_REFERENCE,
]

QUESTION = "We use gpt-4o at 2M tokens/day. How can we save?"


@pytest.fixture
async def agui(gp_server: ServerEndpoint) -> AsyncIterator[Any]:
    """``client = agui(user)``: an AG-UI client of the server under test, as that user."""
    clients: list[AGUIClient] = []

    def make(user: GoldenPathUser | None) -> AGUIClient:
        token = user.access_token if user is not None else None
        client = AGUIClient(gp_server.base_url + AGUI_PATH, token=token)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()


def origin(event: Mapping[str, Any]) -> dict[str, Any]:
    """The v1 event an AG-UI event came from (``metadata["golden_path"]``)."""
    return dict(event.get("metadata", {}).get(METADATA_KEY, {}))


def started(run: AGUIRun) -> dict[str, Any]:
    (first, *_) = run.events
    assert first["type"] == AGUIType.RUN_STARTED, run.types
    return origin(first)


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
