"""The docker provider where no engine answers: it fails fast and says what to do."""

from __future__ import annotations

import time

import pytest

from golden_path.services.docker import ENGINE_TIMEOUT_S, DockerProvider, engine_problem
from golden_path.services.model import ServicesError
from golden_path.services.selection import resolve_provider_name

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a CI runner without Docker gets one clear line naming the Docker host and "
        "the embedded alternative instead of a stack trace",
        revenue_impact="teams whose CI has no Docker still adopt the harness instead of giving "
        "up on real-services tests",
    ),
]

MISSING_HOST = "unix:///nonexistent/golden-path-test/docker.sock"


def test_a_docker_host_that_does_not_exist_is_named_with_the_embedded_alternative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", MISSING_HOST)
    with pytest.raises(ServicesError) as caught:
        DockerProvider().start()
    message = str(caught.value)
    assert message.startswith(f"docker provider: no Docker engine at {MISSING_HOST} (")
    assert message.endswith("; use --gp-services=embedded")


def test_an_absent_engine_is_noticed_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    # 'auto' asks the engine on every run, so an absent one must not cost the run seconds.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # discard port: nothing answers
    began = time.monotonic()
    problem = engine_problem()
    elapsed = time.monotonic() - began
    assert problem is not None
    assert "tcp://127.0.0.1:9" in problem
    assert elapsed < ENGINE_TIMEOUT_S + 2.0


def test_auto_without_urls_or_engine_picks_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", MISSING_HOST)
    assert resolve_provider_name("auto", env={}) == "embedded"
