"""Our golden path end to end, on both transports: a traveller of each plan asks for a
trip, sees our events in order (gp_ws, with our contract) or AG-UI's (gp_agui), and finds
the trip saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from trips.plans import SEARCHES_PER_PLAN

PLANS = [pytest.param(plan, marks=pytest.mark.tier(plan)) for plan in SEARCHES_PER_PLAN]
STAGES = ("auth", "stream", "tools", "answer", "saved")

pytestmark = [
    *(pytest.mark.stage(stage) for stage in STAGES),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a traveller asks for a trip and gets it planned, streamed and saved, "
        "with the searches their plan pays for",
        revenue_impact="the planner is the product: a run that never ends, streams out of "
        "order or is lost after the answer is a cancelled subscription",
    ),
]
User = Callable[[str], Awaitable[Any]]


async def saved_trips(base_url: str, token: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as api:
        answer = await api.get("/trips", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    trips: list[dict[str, Any]] = answer.json()
    return trips


@pytest.mark.parametrize("plan", PLANS)
async def test_a_trip_over_our_stream_shows_every_stage_and_is_saved(
    gp_ws: Any, gp_user: User, gp_base_url: str, plan: str
) -> None:
    traveller = await gp_user(plan)
    sock = await gp_ws(user=traveller)
    await sock.send({"type": "plan", "text": "Lisbon in May"})
    frames = await sock.receive_run()
    sock.assert_contract(stages=["stream", "tools", "answer", "saved"])
    calls = [f["name"] for f in frames if f["event"] == "tool.call"]
    assert calls == list(SEARCHES_PER_PLAN[plan])
    done = frames[-1]
    assert done["answer"] == "".join(f["text"] for f in frames if f["event"] == "token")
    [trip] = await saved_trips(gp_base_url, traveller.access_token)
    assert trip == {
        "id": done["trip_id"],
        "plan": plan,
        "request": "Lisbon in May",
        "answer": done["answer"],
        "tools": calls,
    }


@pytest.mark.parametrize("plan", PLANS)
async def test_a_trip_over_agui_keeps_the_contract_and_is_saved(
    gp_agui_factory: Any, gp_user: User, gp_base_url: str, plan: str
) -> None:
    traveller = await gp_user(plan)
    agent = await gp_agui_factory(user=traveller)
    run = await agent.run("Oslo")
    run.assert_contract()
    [trip] = await saved_trips(gp_base_url, traveller.access_token)
    assert trip["tools"] == list(SEARCHES_PER_PLAN[plan])
    assert trip["answer"] == run.text


async def test_a_bad_frame_gets_an_error_event_and_the_socket_goes_on(
    gp_ws: Any, gp_user: User
) -> None:
    sock = await gp_ws(user=await gp_user("free"))
    await sock.send({"type": "dance"})
    [error] = await sock.receive_until("error")
    assert "expected" in error["message"]
    await sock.send({"type": "plan", "text": "Bergen"})
    await sock.receive_run()
    sock.assert_contract(stages=["stream", "saved"])
