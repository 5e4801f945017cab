"""The golden path in five lines: a user, a socket, a message, five events, a persisted answer."""

import pytest

from golden_path.protocol import GOLDEN_EVENTS
from golden_path.testing.v1.contract import assert_events

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.golden_path,
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Proves the revenue flow end to end: login to a persisted answer",
        revenue_impact="If this breaks, every paying customer's product stops",
    ),
]


@pytest.mark.parametrize("tier", ["free", "early", "mid", "enterprise"])
async def test_a_message_streams_the_five_events_and_persists_the_answer(
    gp_user, gp_client, gp_api, tier
):
    user = await gp_user(tier)
    sock = await gp_client(user)
    run = await sock.ask("We use gpt-4o at 2M tokens/day. How can we save?")
    assert_events(run.events)
    assert {e["type"] for e in run.events} >= {t.value for t in GOLDEN_EVENTS}
    stored = await gp_api.run(user.access_token, run.run_id)
    assert stored["status"] == "succeeded"
    assert [e["event_id"] for e in stored["events"]] == [e["event_id"] for e in run.events]
