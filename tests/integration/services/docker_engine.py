"""The container engine the docker provider's tests need, and what to do when it is missing.

The docker provider's own tests run when the docker provider is asked for
(``--gp-services=docker``, ``GOLDEN_PATH_SERVICES=docker``, or under
``scripts/container_engine.sh run``, which sets ``GOLDEN_PATH_DOCKER_REQUIRED=1``);
then a missing engine is a test error that names the command to run. Otherwise (a
plain ``pytest`` or ``pytest -m integration``, even on a machine where podman was
provisioned: its API service lives only inside ``container_engine.sh run``) they are
skipped, saying how to run them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import docker
import pytest

from golden_path.services.docker import LABEL_OWNER_PID, LABEL_RUN, engine_problem
from golden_path.services.selection import SERVICES_ENV

COMMAND = (
    "bash scripts/container_engine.sh run -- .venv/bin/pytest "
    "--gp-services=docker tests/integration/services/test_docker_provider.py "
    "(make test's docker pass does this)"
)


def docker_asked_for(option: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """How the docker provider was asked for (``None``: it was not), from ``--gp-services``
    (``option``) and the environment."""
    env = os.environ if env is None else env
    if option == "docker":
        return "--gp-services=docker"
    if not option and env.get(SERVICES_ENV, "").strip().lower() == "docker":
        return f"{SERVICES_ENV}=docker"
    if env.get("GOLDEN_PATH_DOCKER_REQUIRED") == "1":
        return "GOLDEN_PATH_DOCKER_REQUIRED=1 (scripts/container_engine.sh run)"
    return None


def skip_unless_asked_for(config: pytest.Config) -> None:
    """Skip, saying how to run them, unless the docker provider was asked for."""
    if docker_asked_for(config.getoption("--gp-services")) is None:
        pytest.skip(
            "the docker provider's own tests run only when it is asked for "
            f"(--gp-services=docker); run: {COMMAND}"
        )


def require_engine() -> None:
    problem = engine_problem(timeout=5.0)
    if problem is None:
        return
    message = f"the docker provider's tests need a container engine: {problem}; run: {COMMAND}"
    pytest.fail(message, pytrace=False)  # asked for (skip_unless_asked_for): an error


@contextlib.contextmanager
def docker_client() -> Iterator[Any]:
    """A Docker client for the engine the provider uses (an error or skip if there is none)."""
    require_engine()
    client = docker.from_env(timeout=30)
    try:
        yield client
    finally:
        client.close()


def containers_of_run(client: Any, run_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}))


def containers_of_owner(client: Any, pid: int) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_OWNER_PID}={pid}"}))
