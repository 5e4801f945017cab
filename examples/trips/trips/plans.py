"""Our plans, and what each one buys: how many searches the planner makes for a trip."""

from __future__ import annotations

# free: flights only; pro: flights and hotels; team: flights, hotels and a shared itinerary.
SEARCHES_PER_PLAN: dict[str, tuple[str, ...]] = {
    "free": ("search_flights",),
    "pro": ("search_flights", "search_hotels"),
    "team": ("search_flights", "search_hotels", "share_itinerary"),
}
PLANS = tuple(SEARCHES_PER_PLAN)
