"""``GOLDEN_PATH_THROTTLE_EXEMPT``: a deployment's CI runners are not throttled; no one else
gets through by claiming to be one (protocol §3.8).

A node with tight limits exempts 127.0.0.3 and 203.0.113.0/24. Bursts well past the
limits come from the exempt address, from another one, from a trusted proxy (127.0.0.1)
forwarding an exempt client and a plain one, and from an untrusted peer forging an
exempt ``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from golden_path.conformance.support import new_email
from golden_path.services.model import Services
from golden_path.testing.identity.users import TEST_PASSWORD
from golden_path.testing.server.reference import start_reference_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.security,
    pytest.mark.reference_only,
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team runs the golden-path suite against its staging deployment, "
        "production throttles on, from CI runners it exempts, and no one else is exempt",
        revenue_impact="a suite that cannot run against the real deployment is not run, "
        "and an exemption anyone can claim reopens password guessing",
    ),
]

WINDOW_S = 1_000_000  # no burst here crosses a window boundary
PER_IP = 4
PER_ACCOUNT = 2
SIGNUPS = 3
EXTRA = 3
RUNNER, STRANGER, PROXY = "127.0.0.3", "127.0.0.2", "127.0.0.1"


@pytest.fixture
def node(gp_services: Services) -> Iterator[str]:
    endpoint = start_reference_server(
        gp_services,
        redis_prefix=f"{gp_services.redis_namespace}exempt-{uuid.uuid4().hex[:8]}:",
        auth_window_s=WINDOW_S,
        login_per_ip=PER_IP,
        login_per_account=PER_ACCOUNT,
        signup_per_ip=SIGNUPS,
        throttle_exempt=(f"{RUNNER}/32", "203.0.113.0/24"),
    )
    try:
        yield endpoint.base_url
    finally:
        endpoint.stop()


async def burst(
    base_url: str, path: str, *, source: str, count: int, same_email: bool = False, **headers: str
) -> list[int]:
    """``count`` concurrent posts to ``path`` from ``source``; their statuses, sorted."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    email = new_email("burst")
    async with httpx.AsyncClient(base_url=base_url, timeout=30, transport=transport) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    path,
                    json={
                        "email": email if same_email else new_email("burst"),
                        "password": TEST_PASSWORD if path.endswith("signup") else "Wrong-pass-1",
                    },
                    headers=headers,
                )
                for _ in range(count)
            )
        )
    return sorted(a.status_code for a in answers)


async def test_the_exempt_runner_is_throttled_by_neither_limit(node: str) -> None:
    assert await burst(node, "/auth/signup", source=RUNNER, count=SIGNUPS + EXTRA) == [201] * (
        SIGNUPS + EXTRA
    )
    assert await burst(node, "/auth/login", source=RUNNER, count=PER_IP + EXTRA) == [401] * (
        PER_IP + EXTRA
    )
    same = await burst(
        node, "/auth/login", source=RUNNER, count=PER_ACCOUNT + EXTRA, same_email=True
    )
    assert same == [401] * (PER_ACCOUNT + EXTRA)


async def test_any_other_address_is_throttled_as_before(node: str) -> None:
    signups = await burst(node, "/auth/signup", source=STRANGER, count=SIGNUPS + EXTRA)
    assert signups == [201] * SIGNUPS + [429] * EXTRA
    logins = await burst(node, "/auth/login", source=STRANGER, count=PER_IP + EXTRA)
    assert logins == [401] * PER_IP + [429] * EXTRA


async def test_a_forged_forwarded_for_naming_an_exempt_client_exempts_nothing(node: str) -> None:
    # 127.0.0.2 is no trusted proxy: its X-Forwarded-For is not believed.
    forged = {"X-Forwarded-For": "203.0.113.7"}
    logins = await burst(node, "/auth/login", source=STRANGER, count=PER_IP + EXTRA, **forged)
    assert logins == [401] * PER_IP + [429] * EXTRA


async def test_behind_the_trusted_proxy_the_forwarded_client_decides(node: str) -> None:
    exempt = {"X-Forwarded-For": "203.0.113.7"}
    assert await burst(node, "/auth/login", source=PROXY, count=PER_IP + EXTRA, **exempt) == [
        401
    ] * (PER_IP + EXTRA)
    plain = {"X-Forwarded-For": "198.51.100.9"}
    logins = await burst(node, "/auth/login", source=PROXY, count=PER_IP + EXTRA, **plain)
    assert logins == [401] * PER_IP + [429] * EXTRA
