"""An AG-UI stream shows a user only their own (protocol §12): another user's ``threadId``
or ``runId`` reaches nothing of theirs.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself (sessions that end on a slow second node, the per-tier cap) stays in this
repository's ``tests/e2e/test_agui_sessions.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import QUESTION, WAIT_S
from golden_path.protocol import ErrorCode
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.testing.agui.client import AGUIClient
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import Tier

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="no one reads another user's AG-UI runs or threads by naming their ids",
        revenue_impact="one user reading another's conversation is a breach every customer "
        "hears about",
    ),
]


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
