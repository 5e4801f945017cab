"""Our own imports of testcontainers raise no deprecation warning."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="teams that run their suite with warnings as errors can use the docker "
        "provider, and the next testcontainers release does not break it",
        revenue_impact="a deprecated import that becomes an ImportError would take every "
        "customer's docker runs down at once",
    ),
]


def test_the_docker_provider_imports_testcontainers_without_deprecation_warnings() -> None:
    # A fresh interpreter: a module imported earlier in this session would not warn again.
    code = (
        "from golden_path.services.docker import container_factory\n"
        "assert container_factory().__name__ == 'DockerContainer'\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
