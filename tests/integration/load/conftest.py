"""The servers a load test points ``golden-path load`` at: the reference server, and a tiny
one that breaks the contract (``broken_server``). Both run in this process and stop at the
test's end, whatever happens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from golden_path.server.runner import ServerThread
from golden_path.services.model import Services
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.server.reference import start_reference_server
from tests.integration.load.broken_server import make_app


@pytest.fixture
def reference(gp_services: Services) -> Iterator[ServerEndpoint]:
    endpoint = start_reference_server(
        gp_services, redis_prefix=f"{gp_services.redis_namespace}load-{uuid.uuid4().hex[:8]}:"
    )
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def broken() -> Iterator[ServerThread]:
    with ServerThread(app=make_app()) as server:
        yield server
