"""The container engine the docker provider's tests need, and what to do when it is missing.

Where an engine is expected (in CI, under ``scripts/container_engine.sh run``, or on a
machine where that script provisioned podman) its absence is a test error that names the
command to run; elsewhere the tests are skipped with that same reason.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from golden_path.services.docker import LABEL_OWNER_PID, LABEL_RUN, engine_problem

PROVISIONED_STAMP = Path("/var/lib/golden-path/container-engine")
COMMAND = (
    "bash scripts/container_engine.sh run -- .venv/bin/pytest "
    "tests/integration/services/test_docker_provider.py (make test does this)"
)


def engine_expected() -> str | None:
    """Why an engine must be here (``None``: it may be missing)."""
    if os.environ.get("CI", "").lower() == "true":
        return "CI=true"
    if os.environ.get("GOLDEN_PATH_DOCKER_REQUIRED") == "1":
        return "GOLDEN_PATH_DOCKER_REQUIRED=1"
    if PROVISIONED_STAMP.exists():
        return f"podman was provisioned here ({PROVISIONED_STAMP})"
    return None


def require_engine() -> None:
    problem = engine_problem(timeout=5.0)
    if problem is None:
        return
    message = f"the docker provider's tests need a container engine: {problem}; run: {COMMAND}"
    expected = engine_expected()
    if expected is not None:
        pytest.fail(f"{message} (an engine is required: {expected})", pytrace=False)
    pytest.skip(message)


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
