"""AG-UI in the harness: the ``gp_agui`` fixture and which tests a protocol choice runs.

``--gp-protocol`` says what the server under test speaks: ``v1`` (golden-path's own
protocol, the default) or ``ag-ui``. With ``--gp-protocol=ag-ui --gp-url URL`` the
URL is the AG-UI endpoint itself (what a ``RunAgentInput`` is POSTed to), tests that
use ``gp_agui`` run against it, and protocol v1's end-to-end tests are skipped with
that reason. With ``v1``, tests that use ``gp_agui`` are skipped: they run against an
AG-UI endpoint given by URL (``make test`` runs them against the reference server's
``POST /agui`` and against ``examples/agui-pydantic-ai``, both by URL).

Settings the AG-UI conformance tests read from the environment (all optional):

``GOLDEN_PATH_AGUI_TOKEN``
    a bearer token ``gp_agui`` sends with every request (and a test checks that a
    request without it is refused).
``GOLDEN_PATH_AGUI_TOOL_PROMPT``
    a message that makes the agent call a tool (default: a question about the weather).
``GOLDEN_PATH_AGUI_ERROR_PROMPT``
    a message that makes the agent fail with ``RUN_ERROR``; without it the error-path
    test is skipped (AG-UI defines no way to make any agent fail).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from golden_path.testing.agui.client import AGUIClient

from golden_path.testing.markers import test_tier_from_path

__all__ = [
    "AGUI_FIXTURE",
    "PROTOCOLS",
    "agui_report_sections",
    "agui_skip_reason",
    "gp_agui",
    "gp_agui_factory",
]

PROTOCOLS: tuple[str, ...] = ("v1", "ag-ui")
AGUI_FIXTURE = "gp_agui"
# Fixtures through which a test reaches a protocol v1 server.
V1_FIXTURES = frozenset({"gp_server", "gp_base_url", "gp_ws_url", "gp_api", "gp_client"})
TOKEN_ENV = "GOLDEN_PATH_AGUI_TOKEN"  # noqa: S105 - the variable's name, not a token


def agui_skip_reason(item: pytest.Item, config: pytest.Config) -> str | None:
    """Why ``item`` cannot run against the server the protocol option names (None: it can)."""
    protocol = config.getoption("gp_protocol", "v1")
    fixtures = set(getattr(item, "fixturenames", ()))
    speaks_agui = AGUI_FIXTURE in fixtures or "gp_agui_factory" in fixtures
    if protocol == "ag-ui":
        if speaks_agui:
            if not config.getoption("gp_url"):
                return "--gp-protocol=ag-ui needs --gp-url: the AG-UI endpoint to test"
            return None
        if fixtures & V1_FIXTURES or test_tier_from_path(item.path) == "e2e":
            return "speaks golden-path protocol v1; the server under test speaks AG-UI"
        return None
    if speaks_agui:
        return (
            "needs an AG-UI endpoint: run with --gp-protocol=ag-ui --gp-url URL "
            "(make test runs these against the reference server's /agui and "
            "examples/agui-pydantic-ai)"
        )
    return None


def agui_report_sections(item: pytest.Item) -> list[tuple[str, str]]:
    """The transcript of every AG-UI client a test used, for its failure report."""
    return [
        (f"golden-path AG-UI client {n} transcript ({client.url})", client.format_transcript(200))
        for n, client in enumerate(getattr(item, "gp_agui_clients", ()))
    ]


AGUIFactory = Callable[..., Awaitable["AGUIClient"]]


@pytest.fixture
async def gp_agui_factory(request: pytest.FixtureRequest) -> AsyncIterator[AGUIFactory]:
    """``client = await gp_agui_factory(token=...)``: more clients of the endpoint under test.

    ``token`` defaults to ``$GOLDEN_PATH_AGUI_TOKEN``; pass ``token=None`` explicitly for
    a client without one. Clients are closed after the test, and a failing test's report
    shows each one's transcript.
    """
    url = request.config.getoption("gp_url")
    if not url:
        pytest.skip("no AG-UI endpoint: run with --gp-protocol=ag-ui --gp-url URL")
    from golden_path.testing.agui.client import AGUIClient  # ag-ui's models: only when used

    clients: list[AGUIClient] = []
    request.node.gp_agui_clients = clients
    default = os.environ.get(TOKEN_ENV) or None
    unset = object()

    async def make(token: object = unset, timeout: float = 30.0) -> AGUIClient:
        chosen = default if token is unset else token
        client = AGUIClient(
            str(url), token=chosen if isinstance(chosen, str) else None, timeout=timeout
        )
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
async def gp_agui(gp_agui_factory: AGUIFactory) -> AGUIClient:
    """An AG-UI client of the endpoint under test: ``run = await gp_agui.run("…")``."""
    return await gp_agui_factory()
