"""The demo's drop-and-resume check waits for what the resume owes, not the first end it sees.

The race the demo lost on two busy cores, made certain: the run ends, live, on the
reconnected socket before its ``resume`` is sent. The resume still owes every event
after the last one the client held; ``resumed_run`` must wait for and return exactly
those, not the live terminal event that came first.
"""

from __future__ import annotations

from typing import Any

import pytest

from golden_path.client import GoldenPathSocket
from golden_path.conformance.support import WAIT_S
from golden_path.demo import resumed_run
from golden_path.protocol import EventType
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("websocket"),
    pytest.mark.reference_only,
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="the demo, the first thing a team runs, passes on a busy machine "
        "whenever the server keeps its resume promise",
        revenue_impact="a demo that reports a lost event the server never lost makes the "
        "product look broken at the moment it is evaluated",
    ),
]


def _ends(request_id: str) -> Any:
    return lambda f: f.get("request_id") == request_id and EventType(f["type"]).is_terminal


async def test_a_run_that_ends_live_before_the_resume_is_still_resumed_whole(
    gp_user: Any, slow_server: ServerEndpoint
) -> None:
    user: GoldenPathUser = await gp_user(Tier.MID)
    sock = await GoldenPathSocket.connect(slow_server.ws_url, user.access_token)
    last_seen = int(sock.established["last_seq"])
    handle = await sock.send_message("We use gpt-4o at 2M tokens/day. How can we save?")
    await handle.first(EventType.AGENT_STARTED)
    await sock.drop()
    again = await GoldenPathSocket.connect(slow_server.ws_url, user.access_token)
    try:
        # The run goes on and ends; its later events reach the new socket live.
        live_end = await again.wait_for(_ends(handle.request_id), WAIT_S, what="the live end")
        await again.resume(last_seen)
        resumed, expected, final = await resumed_run(again, last_seen, handle.request_id)
        assert resumed == expected
        assert expected[0] == last_seen + 1
        assert final["seq"] == live_end["seq"]
        assert final is not live_end  # the resume's own copy of the end, not the live one
    finally:
        await again.close()
