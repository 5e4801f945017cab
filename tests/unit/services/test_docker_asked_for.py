"""The docker provider's own tests run when it is asked for, and are skipped otherwise.

A plain ``pytest`` or ``pytest -m integration`` on a machine where ``make test``
provisioned podman used to error there (the engine's API service lives only inside
``scripts/container_engine.sh run``): running the suite by marker is how people use it.
"""

from __future__ import annotations

import pytest

from tests.integration.services.docker_engine import COMMAND, docker_asked_for

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="`pytest -m integration` is green on any machine, and the docker "
        "provider's tests still run, and fail loudly, wherever the provider is asked for",
        revenue_impact="a suite that errors by default gets its real-services tiers turned "
        "off, and the bugs they catch reach customers",
    ),
]


@pytest.mark.parametrize(
    ("option", "env", "asked"),
    [
        (None, {}, None),
        ("embedded", {}, None),
        ("auto", {"GOLDEN_PATH_SERVICES": "docker"}, None),  # the option wins
        ("docker", {}, "--gp-services=docker"),
        (None, {"GOLDEN_PATH_SERVICES": " Docker "}, "GOLDEN_PATH_SERVICES=docker"),
        (None, {"GOLDEN_PATH_SERVICES": "embedded", "CI": "true"}, None),
        (None, {"GOLDEN_PATH_DOCKER_REQUIRED": "1"}, "GOLDEN_PATH_DOCKER_REQUIRED=1"),
    ],
)
def test_asked_for_only_by_the_option_the_variable_or_the_engine_script(
    option: str | None, env: dict[str, str], asked: str | None
) -> None:
    found = docker_asked_for(option, env)
    if asked is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(asked)


def test_the_skip_says_how_to_run_them() -> None:
    assert "scripts/container_engine.sh run" in COMMAND
    assert "--gp-services=docker" in COMMAND
