"""Shared end-to-end fixtures: reference servers with other settings, and sockets to them.

The custom servers run on the worker's own services (``gp_services``), so a user
made through ``gp_user`` (on ``gp_server``) exists there too and its tokens are
valid there: the servers are two nodes of one deployment. Tests that use them
are marked ``reference_only``. ``isolated_stack`` is different: a server on its
own fresh PostgreSQL and Redis, for tests that stop one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from golden_path.client import GoldenPathHTTP, GoldenPathSocket
from golden_path.client.socket import AuthMethod
from golden_path.conformance.support import ALLOWED_ORIGIN, SLOW_STEP_DELAY_MS
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.model import Services
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.reference import ServerEndpoint, start_reference_server

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """This repository's end-to-end tests speak golden-path's protocol v1, many over raw HTTP
    on ``gp_base_url``, which the harness cannot read a protocol from: say so, and
    ``--gp-protocol=ag-ui`` skips them (those that use ``gp_agui`` speak AG-UI and run)."""
    for item in items:
        if HERE in item.path.resolve().parents and item.get_closest_marker("protocol") is None:
            item.add_marker(pytest.mark.protocol("v1"))


def _stop(endpoint: ServerEndpoint) -> None:
    assert endpoint.thread is not None
    endpoint.thread.stop()


@pytest.fixture(scope="session")
def slow_server(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A second node whose agent takes ``SLOW_STEP_DELAY_MS`` per step (runs stay in flight)."""
    endpoint = start_reference_server(gp_services, agent_step_delay_ms=SLOW_STEP_DELAY_MS)
    try:
        yield endpoint
    finally:
        _stop(endpoint)


@pytest.fixture(scope="session")
def origin_server(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A second node whose Origin allow-list holds ``ALLOWED_ORIGIN``."""
    endpoint = start_reference_server(gp_services, allowed_origins=(ALLOWED_ORIGIN,))
    try:
        yield endpoint
    finally:
        _stop(endpoint)


@pytest.fixture
def dedicated_server(gp_services: Services) -> Iterator[ServerEndpoint]:
    """A node of this test's own, on the shared services, that the test may stop."""
    endpoint = start_reference_server(gp_services)
    try:
        yield endpoint
    finally:
        _stop(endpoint)


@dataclass
class IsolatedStack:
    """A reference server on its own PostgreSQL and Redis, which the test may stop and start."""

    provider: EmbeddedProvider
    services: Services
    endpoint: ServerEndpoint


@pytest.fixture
def isolated_stack() -> Iterator[IsolatedStack]:
    """Fresh services and a server on them; everything is stopped at teardown."""
    provider = EmbeddedProvider()
    services = provider.start()
    try:
        endpoint = start_reference_server(services)
    except BaseException:
        provider.stop()
        raise
    try:
        yield IsolatedStack(provider, services, endpoint)
    finally:
        try:
            _stop(endpoint)
        finally:
            provider.stop()


Connect = Callable[..., Awaitable[GoldenPathSocket]]


@pytest.fixture
async def connect_to(
    gp_client: Any, gp_api: GoldenPathHTTP, request: pytest.FixtureRequest
) -> AsyncIterator[Connect]:
    """``sock = await connect_to(endpoint, user, method=...)``: like ``gp_client``, any server.

    Tickets come from ``gp_api``: the custom servers share its Redis, so they redeem them.
    Sockets join the failing-test transcripts of ``gp_client`` and are closed after the test.
    """
    sockets: list[GoldenPathSocket] = request.node.gp_sockets

    async def connect(
        endpoint: ServerEndpoint,
        user: GoldenPathUser,
        method: AuthMethod = "header",
        **kwargs: Any,
    ) -> GoldenPathSocket:
        ticket = await gp_api.ws_ticket(user.access_token) if method == "ticket" else None
        sock = await GoldenPathSocket.connect(
            endpoint.ws_url, user.access_token, method=method, ticket=ticket, **kwargs
        )
        sockets.append(sock)
        return sock

    opened = len(sockets)
    try:
        yield connect
    finally:
        for sock in sockets[opened:]:
            await sock.close()
