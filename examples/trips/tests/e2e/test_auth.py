"""Our tokens, over real HTTP and WebSocket: the service (gp_app) holds only the public key
the harness made for this run; gp_jwt signs with the private half, like our identity
provider, and breaks each token in one way."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from golden_path.testing.identity.jwt_factory import JWTFactory

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="only our identity provider's tokens reach a traveller's trips, on every "
        "transport",
        revenue_impact="one forgeable transport is enough to read or book in anyone's name",
    ),
]
BadToken = Callable[[JWTFactory, str], str]
BAD_TOKENS: dict[str, BadToken] = {
    "expired": lambda jwt, who: jwt.expired(who, "pro"),
    "not yet valid": lambda jwt, who: jwt.not_yet_valid(who, "pro"),
    "wrong audience": lambda jwt, who: jwt.wrong_audience(who, "pro"),
    "wrong issuer": lambda jwt, who: jwt.wrong_issuer(who, "pro"),
    "another key": lambda jwt, who: jwt.other_key(who, "pro"),
    "alg none": lambda jwt, who: jwt.alg_none(who, "pro"),
    # Moved to another of our plans, its signature kept: only the signature refuses it.
    "tampered plan": lambda jwt, who: jwt.tampered_tier(jwt.valid(who, "free")),
    "a plan we do not sell": lambda jwt, who: jwt.valid(who, "enterprise"),
    "without plan": lambda jwt, who: jwt.missing_claim(who, "plan", "pro"),
    "without exp": lambda jwt, who: jwt.missing_claim(who, "exp", "pro"),
}
RUN_INPUT = {
    "threadId": "t-1",
    "runId": "r-1",
    "state": None,
    "messages": [{"id": "m-1", "role": "user", "content": "Lisbon"}],
    "tools": [],
    "context": [],
    "forwardedProps": None,
}


@pytest.fixture
async def api(gp_base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gp_base_url, timeout=10) as client:
        yield client


def traveller() -> str:
    return f"traveller-{uuid.uuid4().hex}"


@pytest.mark.parametrize(
    "plan", [pytest.param(p, marks=pytest.mark.tier(p)) for p in ("free", "pro", "team")]
)
async def test_a_token_of_each_plan_reads_its_trips(
    api: httpx.AsyncClient, gp_jwt: JWTFactory, plan: str
) -> None:
    answer = await api.get(
        "/trips", headers={"Authorization": f"Bearer {gp_jwt.valid(traveller(), plan)}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == []


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_a_bad_token_is_refused_401_on_http(
    api: httpx.AsyncClient, gp_jwt: JWTFactory, kind: str
) -> None:
    token = BAD_TOKENS[kind](gp_jwt, traveller())
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.get("/trips", headers=headers)).status_code == 401
    assert (await api.post("/agent", json=RUN_INPUT, headers=headers)).status_code == 401


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_a_bad_token_is_closed_4401_on_the_stream(
    gp_ws: Any, gp_jwt: JWTFactory, kind: str
) -> None:
    sock = await gp_ws(token=BAD_TOKENS[kind](gp_jwt, traveller()))
    await sock.wait_closed()
    assert sock.close_code == 4401
    assert sock.frames == []
