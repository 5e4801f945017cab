"""The orders API over real HTTP: our server (gp_app, or gp_server_command) on the run's
PostgreSQL and Redis, called with tokens signed like ours (gp_jwt)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import redis.asyncio as aioredis
from orders.counter import key
from orders.tokens import REQUIRED

from golden_path.services.model import Services
from golden_path.testing.identity.jwt_factory import JWTFactory

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a signed-in customer places an order and reads it back; nobody else can "
        "place or read one in their name",
        revenue_impact="checkout is where the money is made: a broken one loses every sale, a "
        "forgeable one loses the customers' trust",
    ),
]

BadToken = Callable[[JWTFactory, str], str]


def without(claim: str) -> BadToken:
    return lambda jwt, who: jwt.missing_claim(who, claim)


BAD_TOKENS: dict[str, BadToken] = {
    "expired": lambda jwt, who: jwt.expired(who),
    "not yet valid": lambda jwt, who: jwt.not_yet_valid(who),
    "wrong audience": lambda jwt, who: jwt.wrong_audience(who),
    "wrong issuer": lambda jwt, who: jwt.wrong_issuer(who),
    "refresh token": lambda jwt, who: jwt.wrong_type(who),
    "another key": lambda jwt, who: jwt.other_key(who),
    "alg none": lambda jwt, who: jwt.alg_none(who),
    "tampered plan": lambda jwt, who: jwt.tampered_tier(jwt.valid(who, "free"), "enterprise"),
    "no scope": lambda jwt, who: jwt.valid(who, scope="orders:read"),
    **{f"without {claim}": without(claim) for claim in REQUIRED},
}
ORDER = {"items": [{"sku": "tea", "quantity": 2}, {"sku": "mug", "quantity": 1}]}


@pytest.fixture
async def api(gp_base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gp_base_url, timeout=10) as client:
        yield client


@pytest.fixture
def customer() -> str:
    return f"customer-{uuid.uuid4().hex}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_valid_token_places_an_order_and_reads_it_back(
    api: httpx.AsyncClient, gp_jwt: JWTFactory, customer: str
) -> None:
    token = gp_jwt.valid(customer, "mid")
    placed = await api.post("/orders", json=ORDER, headers=auth(token))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["customer"] == customer
    assert order["plan"] == "mid"
    assert order["total_cents"] == 2250  # (2 x 650 + 1200) less the mid plan's 10 %
    read = await api.get(f"/orders/{order['id']}", headers=auth(token))
    assert read.status_code == 200
    assert read.json() == {k: v for k, v in order.items() if k != "orders_placed"}


async def test_another_customer_cannot_read_the_order(
    api: httpx.AsyncClient, gp_jwt: JWTFactory, customer: str
) -> None:
    placed = await api.post("/orders", json=ORDER, headers=auth(gp_jwt.valid(customer)))
    assert placed.status_code == 201, placed.text
    other = gp_jwt.valid(f"customer-{uuid.uuid4().hex}")
    assert (await api.get(f"/orders/{placed.json()['id']}", headers=auth(other))).status_code == 404


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_a_bad_token_is_refused_and_places_nothing(
    api: httpx.AsyncClient,
    gp_jwt: JWTFactory,
    customer: str,
    kind: str,
) -> None:
    answer = await api.post("/orders", json=ORDER, headers=auth(BAD_TOKENS[kind](gp_jwt, customer)))
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    me = await api.get("/me", headers=auth(gp_jwt.valid(customer)))
    assert me.json()["orders_placed"] == 0


@pytest.mark.parametrize("header", [None, "Bearer", "Basic b3JkZXJzOm9yZGVycw=="])
async def test_no_bearer_token_is_refused(api: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    answer = await api.post("/orders", json=ORDER, headers=headers)
    assert answer.status_code == 401
    assert "Bearer <token>" in answer.json()["error"]


async def test_the_counter_in_redis_counts_each_customers_orders(
    api: httpx.AsyncClient,
    gp_jwt: JWTFactory,
    gp_services: Services,
    customer: str,
) -> None:
    token = gp_jwt.valid(customer, "early")
    counts = []
    for _ in range(3):
        placed = await api.post("/orders", json=ORDER, headers=auth(token))
        assert placed.status_code == 201, placed.text
        counts.append(placed.json()["orders_placed"])
    assert counts == [1, 2, 3]
    # Read from the server's own Redis, not through the API.
    client = aioredis.Redis.from_url(gp_services.redis_url)
    try:
        assert await client.get(key(customer, gp_services.redis_namespace)) == b"3"
    finally:
        await client.aclose()
    assert (await api.get("/me", headers=auth(token))).json()["orders_placed"] == 3


@pytest.mark.parametrize(
    ("plan", "body", "message"),
    [
        ("free", {"items": [{"sku": "sofa", "quantity": 1}]}, "unknown products: sofa"),
        ("free", {"items": []}, "non-empty list"),
        (
            "free",
            {"items": [{"sku": s, "quantity": 1} for s in ("tea", "mug", "kettle", "x")]},
            "the free plan allows 3 products",
        ),
    ],
)
async def test_an_order_that_cannot_be_placed_is_422_and_not_counted(
    api: httpx.AsyncClient,
    gp_jwt: JWTFactory,
    customer: str,
    plan: str,
    body: dict[str, object],
    message: str,
) -> None:
    token = gp_jwt.valid(customer, plan)
    answer = await api.post("/orders", json=body, headers=auth(token))
    assert answer.status_code == 422
    assert message in answer.json()["error"]
    assert (await api.get("/me", headers=auth(token))).json()["orders_placed"] == 0


async def test_health_answers_once_both_services_do(api: httpx.AsyncClient) -> None:
    answer = await api.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}
