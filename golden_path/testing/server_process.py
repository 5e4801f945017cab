"""Reference servers in processes of their own, for tests of several nodes, crashes and shutdown.

``gp_server_process(**settings)`` starts ``golden-path serve`` (through
:class:`golden_path.server.runner.ServeProcess`, the one way to run a server as
its own process) on this worker's database and Redis namespace, with the
in-process server's JWT secret, so a user's tokens work on every node. Any
``Settings`` field can be overridden. Each process stops with the test, and dies
with pytest (it gets a parent-death signal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from golden_path.server.runner import ServeProcess
from golden_path.services.model import Services
from golden_path.testing.server_fixtures import reference_settings

ProcessFactory = Callable[..., ServeProcess]


@pytest.fixture
def gp_server_process(gp_services: Services) -> Iterator[ProcessFactory]:
    """``node = gp_server_process(agent_step_delay_ms=100)``: another server process, started."""
    started: list[ServeProcess] = []

    def start(**settings: Any) -> ServeProcess:
        process = ServeProcess(reference_settings(gp_services, **settings))
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.stop()
