"""AG-UI in the harness: the ``gp_agui`` fixture and which tests a protocol choice runs.

Where the AG-UI endpoint is: with ``gp_agui_path`` (e.g. ``/agent``), at that path of
the server under test (the team's ``gp_app`` or ``gp_server_command``, or ``--gp-url``'s
deployment), and ``gp_agui`` sends the access token of a ``gp_user`` (the first
segment's). Without it, ``--gp-protocol=ag-ui --gp-url URL`` names the endpoint itself
(what a ``RunAgentInput`` is POSTed to).

Which tests run is decided by the protocol a test speaks, read from the fixtures it uses
(``gp_agui`` / ``gp_agui_factory``: AG-UI; ``gp_api``, ``gp_client``, ``gp_ws_url``,
``gp_server_process``, and ``gp_user`` without a ``gp_user_factory``: golden-path's
protocol v1) or from its ``protocol(name)`` marker; ``gp_base_url``, ``gp_server`` and
``gp_ws`` speak whatever the team's server speaks, so they never cause a skip. With
``--gp-protocol=ag-ui``, protocol v1 tests are skipped; with ``v1`` (the default), AG-UI
tests are skipped unless ``gp_agui_path`` says where the server's endpoint is.

Settings the AG-UI conformance tests read from the environment (all optional):

``GOLDEN_PATH_AGUI_TOKEN``
    a bearer token ``gp_agui`` sends with every request (and a test checks that a
    request without it is refused); it wins over a ``gp_user``'s.
``GOLDEN_PATH_AGUI_TOOL_PROMPT``
    a message that makes the agent call a tool (default: a question about the weather).
``GOLDEN_PATH_AGUI_ERROR_PROMPT``
    a message that makes the agent fail with ``RUN_ERROR``; without it the error-path
    test is skipped (AG-UI defines no way to make any agent fail).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from golden_path.testing.agui.client import AGUIClient

from golden_path.testing.options import PROTOCOLS, harness_options

__all__ = [
    "AGUI_FIXTURE",
    "PROTOCOLS",
    "agui_skip_reason",
    "gp_agui",
    "gp_agui_factory",
    "protocols_spoken",
]

AGUI_FIXTURE = "gp_agui"
AGUI_FIXTURES = frozenset({AGUI_FIXTURE, "gp_agui_factory"})
# Fixtures through which a test speaks golden-path's protocol v1 (gp_user too, unless the
# team's gp_user_factory makes its users); gp_base_url and gp_server speak any protocol.
V1_FIXTURES = frozenset({"gp_api", "gp_client", "gp_ws_url", "gp_server_process"})
TOKEN_ENV = "GOLDEN_PATH_AGUI_TOKEN"  # noqa: S105 - the variable's name, not a token


def protocols_spoken(item: pytest.Item, config: pytest.Config) -> set[str]:
    """The protocols ``item`` speaks: its ``protocol(name)`` markers and its fixtures'."""
    fixtures = set(getattr(item, "fixturenames", ()))
    spoken = {str(m.args[0]) for m in item.iter_markers("protocol") if m.args}
    if fixtures & AGUI_FIXTURES:
        spoken.add("ag-ui")
    v1 = V1_FIXTURES if harness_options(config).user_factory else V1_FIXTURES | {"gp_user"}
    if fixtures & v1:
        spoken.add("v1")
    return spoken


def agui_skip_reason(item: pytest.Item, config: pytest.Config) -> str | None:
    """Why ``item`` cannot run against the server the protocol option names (None: it can)."""
    protocol = config.getoption("gp_protocol", "v1")
    options = harness_options(config)
    spoken = protocols_spoken(item, config)
    if "ag-ui" in spoken:
        if options.agui_path or (protocol == "ag-ui" and options.url):
            return None
        if protocol == "ag-ui":
            return (
                "--gp-protocol=ag-ui needs the AG-UI endpoint: --gp-url URL, or gp_agui_path "
                "(its path on the server under test)"
            )
        return (
            "needs an AG-UI endpoint: set gp_agui_path (its path on your server), or run "
            "with --gp-protocol=ag-ui --gp-url URL (make test runs these against the "
            "reference server's /agui and examples/agui-pydantic-ai)"
        )
    if "v1" in spoken and protocol == "ag-ui":
        return "speaks golden-path protocol v1; the server under test speaks AG-UI"
    return None


@dataclass(frozen=True)
class _Endpoint:
    """Where ``gp_agui`` POSTs, and how it makes a user for its token (None: it does not)."""

    url: str
    users: Callable[..., Awaitable[Any]] | None


@pytest.fixture
def _gp_agui_endpoint(request: pytest.FixtureRequest) -> _Endpoint:
    options = harness_options(request.config)
    if options.agui_path:
        server = request.getfixturevalue("gp_server")
        url = str(server.base_url).rstrip("/") + options.agui_path
        users = None if os.environ.get(TOKEN_ENV) else request.getfixturevalue("gp_user")
        return _Endpoint(url, users)
    if not options.url:
        pytest.skip("no AG-UI endpoint: set gp_agui_path, or run with --gp-protocol=ag-ui --gp-url")
    return _Endpoint(str(options.url), None)


def access_token_of(user: Any) -> str:
    """A ``gp_user``'s access token: its ``access_token`` attribute or key."""
    token = user.get("access_token") if isinstance(user, Mapping) else None
    token = token or getattr(user, "access_token", None)
    if not isinstance(token, str) or not token:
        raise pytest.fail.Exception(
            f"gp_agui sends a gp_user's access_token, and gp_user gave {type(user).__name__} "
            f"without one: return an object or dict with access_token from gp_user_factory "
            f"(or pass gp_agui_factory(token=...))",
            pytrace=False,
        )
    return token


AGUIFactory = Callable[..., Awaitable["AGUIClient"]]


@pytest.fixture
async def gp_agui_factory(_gp_agui_endpoint: _Endpoint) -> AsyncIterator[AGUIFactory]:
    """``client = await gp_agui_factory(token=..., user=...)``: more clients of the endpoint.

    ``user``: send that user's ``access_token``. ``token``: send this one (``token=None``:
    none). Neither: ``$GOLDEN_PATH_AGUI_TOKEN`` if set, else (with ``gp_agui_path``) the
    token of one ``gp_user()`` made for the test and shared by its clients. Clients are
    closed after the test; a failing test's report shows each one's transcript.
    """
    from golden_path.testing.agui.client import AGUIClient  # ag-ui's models: only when used

    clients: list[AGUIClient] = []
    unset = object()
    shared: list[str] = []

    async def default_token() -> str | None:
        if os.environ.get(TOKEN_ENV) or _gp_agui_endpoint.users is None:
            return os.environ.get(TOKEN_ENV) or None
        if not shared:
            shared.append(access_token_of(await _gp_agui_endpoint.users()))
        return shared[0]

    async def make(token: object = unset, *, user: Any = None, timeout: float = 30.0) -> AGUIClient:
        if user is not None:
            chosen: object = access_token_of(user)
        else:
            chosen = await default_token() if token is unset else token
        client = AGUIClient(
            _gp_agui_endpoint.url,
            token=chosen if isinstance(chosen, str) else None,
            timeout=timeout,
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
