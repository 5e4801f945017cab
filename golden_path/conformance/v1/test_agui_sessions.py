"""An AG-UI stream ends with its session, is capped per tier, and shows a user only their own.

``POST /agui`` streams are held to what sockets are held to (protocol §3.4, §12): a
logout or logout-all, on any node, and the token's expiry end an open stream at once
with ``RUN_ERROR`` ``4401`` and the v1 reason, then the response closes; a user holds
at most the tier's ``open_agui_streams``; and another user's ``threadId`` or ``runId``
reaches nothing of theirs. The session tests stream from a second node whose agent is
slow, so each run is still going when its session ends.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_agui_sessions.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import WAIT_S
from golden_path.protocol import ErrorCode
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.services.model import Services
from golden_path.testing.agui.client import AGUIClient
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.server.reference import start_reference_server
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a user who logs out, or whose token expires, stops receiving their "
        "conversation on every open AG-UI stream, as on every socket; no one reads another "
        "user's runs by naming their ids; no user holds streams without bound",
        revenue_impact="a stream that outlives logout leaks a conversation on a shared or "
        "stolen device, and unbounded streams let one account exhaust a node for everyone",
    ),
]

QUESTION = "We use gpt-4o at 2M tokens/day. How can we save?"
TOKEN_TTL_S = 5


@pytest.fixture(scope="module")
def slow_node(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A node whose runs last long (2 s a step) and whose own logins expire in 5 s."""
    endpoint = start_reference_server(
        gp_services, agent_step_delay_ms=2000, access_ttl_s=TOKEN_TTL_S, clock_skew_s=0
    )
    try:
        yield endpoint
    finally:
        # Its 2 s steps would hold the stop for the whole grace period: no run here needs
        # to finish after its test.
        assert endpoint.thread is not None
        endpoint.thread.stop(grace_s=0.0)


@pytest.fixture
async def ui(slow_node: ServerEndpoint) -> AsyncIterator[Any]:
    """``client = ui(token)``: an AG-UI client of the slow node."""
    clients: list[AGUIClient] = []

    def make(token: str) -> AGUIClient:
        client = AGUIClient(slow_node.base_url + AGUI_PATH, token=token, timeout=WAIT_S)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()


async def test_another_users_thread_id_and_run_id_reach_nothing_of_theirs(
    gp_api: GoldenPathHTTP, gp_user: Any, gp_server: ServerEndpoint
) -> None:
    def ui(token: str) -> AGUIClient:  # the main node: these runs need not be slow
        return AGUIClient(gp_server.base_url + AGUI_PATH, token=token, timeout=WAIT_S)

    alice: GoldenPathUser = await gp_user(Tier.MID)
    bob: GoldenPathUser = await gp_user(Tier.MID)
    secret = "Alice's private question about gpt-4o at 2M tokens/day"
    async with ui(alice.access_token) as client:
        theirs = await client.run(secret)
    assert theirs.terminal is not None
    alice_ids = dict(theirs.events[0]["metadata"][METADATA_KEY])
    server_thread, server_run = alice_ids["thread_id"], alice_ids["run_id"]

    # Alice's server thread id: not found for Bob, and nothing ran.
    async with ui(bob.access_token) as client:
        refused = await client.run(QUESTION, thread_id=server_thread)
    (only,) = refused.events
    assert only["code"] == ErrorCode.THREAD_NOT_FOUND.value

    # Alice's own names for her thread and run, and her run's server id as a runId: each
    # is a new run of Bob's, in a thread of Bob's, with none of Alice's events.
    for fields in (
        {"thread_id": theirs.thread_id, "run_id": theirs.run_id},
        {"run_id": server_run},
    ):
        async with ui(bob.access_token) as client:
            mine = await client.run(QUESTION, **fields)
        assert mine.terminal is not None
        assert mine.terminal["type"] == AGUIType.RUN_FINISHED, mine.types
        ids = [dict(e.get("metadata", {}).get(METADATA_KEY, {})) for e in mine.events]
        assert ids[0]["run_id"] != server_run
        assert ids[0]["thread_id"] != server_thread
        assert secret not in str(mine.events)
        thread = await gp_api.thread(bob.access_token, ids[0]["thread_id"])
        assert secret not in str(thread)
    # Alice's run is still hers alone, billed once.
    assert (await gp_api.run(alice.access_token, server_run))["status"] == "succeeded"
