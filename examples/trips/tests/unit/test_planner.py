"""The planner alone: what each plan buys, and the requests it refuses."""

from __future__ import annotations

import pytest
from trips.planner import MAX_REQUEST_CHARS, BadRequest, plan_trip
from trips.plans import PLANS

pytestmark = [
    pytest.mark.stage("tools"),
    pytest.mark.stage("answer"),
    pytest.mark.bvj(
        segment="all",
        goal="expansion",
        value_impact="each plan gets the searches it pays for, and the answer adds them up",
        revenue_impact="a free plan that gets hotels has no reason to upgrade; a pro plan "
        "without them asks for a refund",
    ),
]


@pytest.mark.parametrize(
    ("plan", "tools"),
    [
        ("free", ["search_flights"]),
        ("pro", ["search_flights", "search_hotels"]),
        ("team", ["search_flights", "search_hotels", "share_itinerary"]),
    ],
)
def test_each_plan_makes_the_searches_it_buys(plan: str, tools: list[str]) -> None:
    trip = plan_trip("Lisbon", plan)
    assert [call.name for call in trip.calls] == tools
    total = sum(int(str(call.result["price_eur"])) for call in trip.calls)
    assert trip.answer == f"Your trip to Lisbon: {len(tools)} bookings, {total} EUR in all."


def test_the_same_request_plans_the_same_trip() -> None:
    assert plan_trip("  Porto\n in May ", "team") == plan_trip("Porto in May", "team")


def test_the_answer_tokens_join_into_the_answer_with_its_spaces() -> None:
    trip = plan_trip("Rome", "pro")
    assert len(trip.answer_tokens) > 3
    assert "".join(trip.answer_tokens) == trip.answer


@pytest.mark.parametrize("request_text", ["", "   \n", "x" * (MAX_REQUEST_CHARS + 1)])
def test_an_empty_or_oversized_request_is_refused(request_text: str) -> None:
    with pytest.raises(BadRequest):
        plan_trip(request_text, "free")


def test_every_plan_is_known_to_the_planner() -> None:
    assert PLANS == ("free", "pro", "team")
