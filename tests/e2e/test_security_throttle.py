"""Password guessing and hashing floods (security review, issue 13 §2), for real.

Each test fires a real burst of concurrent HTTP requests at a reference server with
tight limits (the suite's own servers run far above them, ``SUITE_LIMITS``). The
throttle windows are made very long, so a burst never straddles two windows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from golden_path.client import GoldenPathHTTP
from golden_path.conformance.support import new_email
from golden_path.server.redis_keys import RedisKeys
from golden_path.services.model import Services
from golden_path.testing.identity.users import TEST_PASSWORD
from golden_path.testing.server.reference import start_reference_server as start_reference_server

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.security,
    pytest.mark.reference_only,
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="Guessing a customer's password is throttled per address and per "
        "account, and a login flood cannot starve the server of threads or memory",
        revenue_impact="An account taken over by guessing, or an outage from a hashing "
        "flood, hits every paying customer at once",
    ),
]

WINDOW_S = 1_000_000  # ~11 days: no burst here crosses a window boundary
PER_ACCOUNT = 3
PER_IP = 12
SIGNUPS_PER_IP = 4


def _prefix(services: Services) -> str:
    # A Redis namespace of its own: other servers' logins from 127.0.0.1 do not count here.
    return f"{services.redis_namespace or 'gp:'}throttle-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def throttled(gp_services: Services) -> Iterator[str]:
    """A node with tight login and signup limits; its base URL."""
    endpoint = start_reference_server(
        gp_services,
        redis_prefix=_prefix(gp_services),
        auth_window_s=WINDOW_S,
        login_per_account=PER_ACCOUNT,
        login_per_ip=PER_IP,
        signup_per_ip=SIGNUPS_PER_IP,
    )
    try:
        yield endpoint.base_url
    finally:
        endpoint.thread.stop()


async def _logins(base_url: str, email: str, password: str, count: int) -> list[httpx.Response]:
    """``count`` concurrent logins, each on its own connection."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        body = {"email": email, "password": password}
        return list(
            await asyncio.gather(*(client.post("/auth/login", json=body) for _ in range(count)))
        )


def _statuses(answers: list[httpx.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


async def test_a_burst_of_guesses_is_throttled_per_account_with_retry_after(throttled):
    async with GoldenPathHTTP(throttled) as api:
        email = new_email("guess")
        await api.signup(email, TEST_PASSWORD)
    answers = await _logins(throttled, email, "wrong-password-123", PER_ACCOUNT + 4)
    assert _statuses(answers) == [401] * PER_ACCOUNT + [429] * 4
    for answer in answers:
        if answer.status_code == 429:
            assert 0 < int(answer.headers["retry-after"]) <= WINDOW_S
    # The right password does not get through either until the window ends.
    right = await _logins(throttled, email, TEST_PASSWORD, 1)
    assert right[0].status_code == 429


async def test_an_unknown_account_answers_exactly_like_a_known_one(throttled):
    async with GoldenPathHTTP(throttled) as api:
        known = new_email("known")
        await api.signup(known, TEST_PASSWORD)
    unknown = new_email("nobody")
    for_known = await _logins(throttled, known, "wrong-password-123", PER_ACCOUNT + 2)
    for_unknown = await _logins(throttled, unknown, "wrong-password-123", PER_ACCOUNT + 2)
    assert _statuses(for_known) == _statuses(for_unknown) == [401] * PER_ACCOUNT + [429] * 2
    assert {a.text for a in for_known if a.status_code == 401} == {
        a.text for a in for_unknown if a.status_code == 401
    }


async def test_guessing_across_many_accounts_is_throttled_per_address(throttled):
    emails = [new_email("spray") for _ in range(PER_IP + 3)]
    async with httpx.AsyncClient(base_url=throttled, timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post("/auth/login", json={"email": e, "password": "Spring2026!!"})
                for e in emails
            )
        )
    assert _statuses(list(answers)) == [401] * PER_IP + [429] * 3


async def _spray(base_url: str, from_address: str, count: int) -> list[int]:
    """``count`` concurrent guesses at as many accounts from ``from_address``, each naming
    another client in ``X-Forwarded-For``."""
    transport = httpx.AsyncHTTPTransport(local_address=from_address)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, transport=transport) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/auth/login",
                    json={"email": new_email("spray"), "password": "Spring2026!!"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                for n in range(count)
            )
        )
    return _statuses(list(answers))


async def test_a_forged_forwarded_for_does_not_dodge_the_per_address_limit(throttled):
    """A client that is not a trusted proxy cannot name a fresh address for every guess:
    the limit is its own TCP address's (here 127.0.0.2, not the proxy 127.0.0.1)."""
    assert await _spray(throttled, "127.0.0.2", PER_IP + 3) == [401] * PER_IP + [429] * 3


async def test_behind_a_proxy_on_the_host_each_forwarded_client_has_its_own_limit(throttled):
    """What a proxy on 127.0.0.1 forwards is believed, so its users do not share one
    allowance (protocol §3.8): the same burst as above is not throttled."""
    assert await _spray(throttled, "127.0.0.1", PER_IP + 3) == [401] * (PER_IP + 3)


async def test_a_signup_burst_from_one_address_is_throttled(throttled):
    async with httpx.AsyncClient(base_url=throttled, timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/auth/signup", json={"email": new_email("bot"), "password": TEST_PASSWORD}
                )
                for _ in range(SIGNUPS_PER_IP + 2)
            )
        )
    assert _statuses(list(answers)) == [201] * SIGNUPS_PER_IP + [429] * 2


@pytest.fixture
def hashing_server(gp_services: Services):
    """A node hashing with the production profile, one hash at a time, two more waiting."""
    endpoint = start_reference_server(
        gp_services,
        redis_prefix=_prefix(gp_services),
        password_hash_profile="strong",
        password_hash_concurrency=1,
        password_hash_queue=2,
    )
    try:
        yield endpoint
    finally:
        endpoint.thread.stop()


async def test_a_login_flood_is_refused_past_the_hashing_bound_and_the_server_answers(
    hashing_server,
):
    state = hashing_server.thread.app_state
    flood = asyncio.gather(  # already running: gather wraps each login in a task
        *(
            _logins(hashing_server.base_url, new_email("flood"), "wrong-password-123", 1)
            for _ in range(48)
        )
    )
    # While the flood runs, the server still answers other requests.
    async with httpx.AsyncClient(base_url=hashing_server.base_url, timeout=10) as client:
        health = await client.get("/healthz")
    answers = [batch[0] for batch in await flood]
    assert health.status_code == 200
    statuses = {a.status_code for a in answers}
    assert statuses <= {401, 503}, statuses
    refused = [a for a in answers if a.status_code == 503]
    assert refused, "48 concurrent logins with room for 3: some must be refused"
    assert all(a.headers.get("retry-after") for a in refused)
    # At no moment were more than 1 running + 2 waiting hashes held.
    assert state.passwords.peak_admitted <= 3
    # Every hash ran on the hashing pool's own thread, never on the event loop's (where a
    # flood would stall every socket and request while it lasts).
    assert state.passwords.hashed_on == {"argon2_0"}, state.passwords.hashed_on


async def test_an_address_over_its_limit_is_refused_before_redis_is_asked_again(
    gp_services: Services,
):
    """A flood that keeps coming after its 429 is answered before routing and without a
    Redis round trip (the counter stops growing), with the very same 429."""
    prefix = _prefix(gp_services)
    endpoint = start_reference_server(
        gp_services,
        redis_prefix=prefix,
        auth_window_s=WINDOW_S,
        login_per_ip=PER_IP,
        login_per_account=10 * PER_IP,
    )
    address = "127.0.0.3"
    try:
        burst = await _spray(endpoint.base_url, address, PER_IP + 1)
        assert burst == [401] * PER_IP + [429]
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(
            base_url=endpoint.base_url, timeout=30, transport=transport
        ) as client:
            later = [
                await client.post(
                    "/auth/login", json={"email": new_email("again"), "password": "Spring2026!!"}
                )
                for _ in range(5)
            ]
        assert [a.status_code for a in later] == [429] * 5
        assert {a.text for a in later} == {'{"detail":"too many attempts; retry later"}'}
        assert all(0 < int(a.headers["retry-after"]) <= WINDOW_S for a in later)
        redis = aioredis.Redis.from_url(gp_services.redis_url)
        try:
            window = int(time.time() // WINDOW_S)
            counted = await redis.get(RedisKeys(prefix).throttle("login-ip", address, window))
        finally:
            await redis.aclose()
        assert int(counted) == PER_IP + 1  # the five later attempts never reached Redis
    finally:
        endpoint.thread.stop()
