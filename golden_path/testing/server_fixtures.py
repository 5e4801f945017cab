"""Fixtures for end-to-end tests: a server (in-process or by URL), users, sockets, bad tokens.

``gp_server`` is the reference server in this worker's process, on this
worker's database and Redis namespace, started once and shared. With
``--gp-url`` it is the deployment at that URL instead, and tests marked
``reference_only`` are skipped there (they need the reference server's
internals). Fresh users per test are the way to isolate tests: nothing else
needs cleaning up.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.client.socket import AuthMethod
from golden_path.protocol import websocket_url
from golden_path.server.config import SUITE_LIMITS, Settings
from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from golden_path.testing.jwt_factory import JWTFactory
from golden_path.testing.users import GoldenPathUser, create_user
from golden_path.tiers import Tier

TEST_JWT_SECRET = secrets.token_urlsafe(48)


@dataclass(frozen=True)
class ServerEndpoint:
    """Where the server under test answers, and (for the reference server) its settings."""

    base_url: str
    ws_url: str
    settings: Settings | None = None
    thread: ServerThread | None = None

    @property
    def is_reference(self) -> bool:
        return self.thread is not None


def reference_settings(services: Services, **overrides: Any) -> Settings:
    """Settings for a reference server on ``services`` (fast password hashing: test users)."""
    settings = Settings(
        postgres_dsn=services.postgres_dsn,
        redis_url=services.redis_url,
        redis_prefix=services.redis_namespace or "gp:",
        jwt_secret=TEST_JWT_SECRET,
        password_hash_profile="fast",  # noqa: S106 - a profile name, not a password
    )
    return replace(settings, **{**SUITE_LIMITS, **overrides}).validated()


def start_reference_server(services: Services, **overrides: Any) -> ServerEndpoint:
    thread = ServerThread(reference_settings(services, **overrides)).start()
    return ServerEndpoint(thread.base_url, thread.ws_url, thread.settings, thread)


def endpoint_for_url(url: str) -> ServerEndpoint:
    base = url.rstrip("/")
    return ServerEndpoint(base, websocket_url(base))


@pytest.fixture(scope="session")
def gp_server(request: pytest.FixtureRequest) -> Iterator[ServerEndpoint]:
    """The server under test: ``--gp-url``'s deployment, or the reference server in-process."""
    url = request.config.getoption("gp_url")
    if url:
        yield endpoint_for_url(url)
        return
    services: Services = request.getfixturevalue("gp_services")
    endpoint = start_reference_server(services)
    try:
        yield endpoint
    finally:
        assert endpoint.thread is not None
        endpoint.thread.stop()


@pytest.fixture(scope="session")
def gp_base_url(gp_server: ServerEndpoint) -> str:
    return gp_server.base_url


@pytest.fixture(scope="session")
def gp_ws_url(gp_server: ServerEndpoint) -> str:
    return gp_server.ws_url


@pytest.fixture
async def gp_api(gp_server: ServerEndpoint) -> AsyncIterator[GoldenPathHTTP]:
    """An HTTP client for the server under test."""
    async with GoldenPathHTTP(gp_server.base_url) as api:
        yield api


UserFactory = Callable[..., Awaitable[GoldenPathUser]]


@pytest.fixture
def gp_user(gp_api: GoldenPathHTTP) -> UserFactory:
    """``await gp_user(tier="mid")``: a fresh user of that tier, with tokens."""

    async def make(tier: Tier | str = Tier.FREE, *, email: str | None = None) -> GoldenPathUser:
        return await create_user(gp_api, tier, email=email)

    return make


ClientFactory = Callable[..., Awaitable[GoldenPathSocket]]


@pytest.fixture
async def gp_client(
    gp_server: ServerEndpoint, gp_api: GoldenPathHTTP, request: pytest.FixtureRequest
) -> AsyncIterator[ClientFactory]:
    """``sock = await gp_client(user, method="header"|"subprotocol"|"ticket")``.

    Sockets are closed after the test; a failing test's report shows every socket's
    transcript (see ``pytest_runtest_makereport`` in the plugin).
    """
    sockets: list[GoldenPathSocket] = []
    request.node.gp_sockets = sockets

    async def connect(
        user: GoldenPathUser, method: AuthMethod = "header", **kwargs: Any
    ) -> GoldenPathSocket:
        ticket = await gp_api.ws_ticket(user.access_token) if method == "ticket" else None
        sock = await GoldenPathSocket.connect(
            gp_server.ws_url, user.access_token, method=method, ticket=ticket, **kwargs
        )
        sockets.append(sock)
        return sock

    try:
        yield connect
    finally:
        for sock in sockets:
            await sock.close()


@pytest.fixture(scope="session")
def gp_jwt(gp_server: ServerEndpoint) -> JWTFactory:
    """Tokens that a strict server must refuse (signed like the reference server under test)."""
    settings = gp_server.settings
    if settings is None:
        # A deployment by URL: its secret, when the operator shares it, lets the factory
        # mint tokens it accepts (expiring ones, say); otherwise every token is foreign.
        env = Settings.from_env() if os.environ.get("GOLDEN_PATH_JWT_SECRET") else None
        if env is None:
            return JWTFactory(secret=secrets.token_urlsafe(48))
        return JWTFactory(
            secret=env.jwt_secret,
            issuer=env.jwt_issuer,
            audience=env.jwt_audience,
            algorithm=env.jwt_algorithm,
            access_ttl_s=env.access_ttl_s,
        )
    return JWTFactory(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        algorithm=settings.jwt_algorithm,
        access_ttl_s=settings.access_ttl_s,
    )
