"""What the v1 modules that speak AG-UI (``POST /agui``, protocol §12) share: AG-UI
clients of the server under test, and the server's ids in ``RUN_STARTED``.

Used by the shipped modules and by this repository's ``tests/e2e`` halves of the same
topics. ``agui`` is a pytest fixture: a module that wants it imports it by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from ag_ui.core import EventType as AGUIType

from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.testing.agui.client import AGUIClient, AGUIRun
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.server.endpoint import ServerEndpoint

AGUIFor = Callable[[GoldenPathUser | None], AGUIClient]


@contextlib.asynccontextmanager
async def agui_clients() -> AsyncIterator[list[AGUIClient]]:
    """A list to put AG-UI clients in; every client in it is closed on the way out."""
    clients: list[AGUIClient] = []
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
async def agui(gp_server: ServerEndpoint) -> AsyncIterator[AGUIFor]:
    """``client = agui(user)``: an AG-UI client of the server under test, as that user."""
    async with agui_clients() as clients:

        def make(user: GoldenPathUser | None) -> AGUIClient:
            token = user.access_token if user is not None else None
            client = AGUIClient(gp_server.base_url + AGUI_PATH, token=token)
            clients.append(client)
            return client

        yield make


def origin(event: Mapping[str, Any]) -> dict[str, Any]:
    """The v1 event an AG-UI event came from (``metadata["golden_path"]``)."""
    return dict(event.get("metadata", {}).get(METADATA_KEY, {}))


def started(run: AGUIRun) -> dict[str, Any]:
    """The server's ids of ``run``, from its first event (which must be ``RUN_STARTED``)."""
    (first, *_) = run.events
    assert first["type"] == AGUIType.RUN_STARTED, run.types
    return origin(first)
