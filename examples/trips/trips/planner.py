"""The agent, deterministic: a trip request becomes tool calls (as many as the plan buys),
their results, and an answer streamed in tokens. Pure: no I/O, the same request always
plans the same trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from trips.plans import SEARCHES_PER_PLAN

MAX_REQUEST_CHARS = 2_000


class BadRequest(ValueError):
    """A request the planner refuses (answered 400 over HTTP, an error event on /stream)."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: dict[str, str]
    result: dict[str, object]


@dataclass(frozen=True, slots=True)
class Trip:
    request: str
    calls: tuple[ToolCall, ...]
    answer_tokens: tuple[str, ...]

    @property
    def answer(self) -> str:
        return "".join(self.answer_tokens)


def _price(name: str, destination: str) -> int:
    digest = hashlib.sha256(f"{name}:{destination}".encode()).digest()
    return 100 + int.from_bytes(digest[:2], "big") % 900


def plan_trip(request: str, plan: str) -> Trip:
    destination = " ".join(request.split())
    if not destination:
        raise BadRequest("the request is empty: say where to go")
    if len(destination) > MAX_REQUEST_CHARS:
        raise BadRequest(f"the request is longer than {MAX_REQUEST_CHARS} characters")
    calls = tuple(
        ToolCall(
            name=name,
            arguments={"destination": destination},
            result={"destination": destination, "price_eur": _price(name, destination)},
        )
        for name in SEARCHES_PER_PLAN[plan]
    )
    total = sum(int(str(call.result["price_eur"])) for call in calls)
    words = f"Your trip to {destination}: {len(calls)} bookings, {total} EUR in all.".split(" ")
    tokens = tuple(word if i == 0 else f" {word}" for i, word in enumerate(words))
    return Trip(request=destination, calls=calls, answer_tokens=tokens)
