"""The docker provider: on a machine without a Docker engine it fails fast and says what to do."""

from __future__ import annotations

import asyncio
import time

import pytest

from golden_path.services.docker import (
    ENGINE_TIMEOUT_S,
    DockerProvider,
    docker_host,
    engine_problem,
)
from golden_path.services.model import ServicesError
from golden_path.services.selection import resolve_provider_name
from tests.integration.services.servers import pg_roundtrip, redis_roundtrip

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


def test_docker_provider_names_the_host_and_suggests_embedded() -> None:
    problem = engine_problem()
    provider = DockerProvider()
    if problem is None:  # a machine with a Docker engine: the provider must work for real
        try:
            services = provider.start()
            assert services.provider == "docker"
            assert asyncio.run(pg_roundtrip(services.postgres_dsn)) == [(1, "first"), (2, "second")]
            assert asyncio.run(redis_roundtrip(services.redis_url, "docker:k")) == b"value-1"
        finally:
            provider.stop()
        return
    with pytest.raises(ServicesError) as caught:
        provider.start()
    message = str(caught.value)
    assert message.startswith(f"docker provider: no Docker engine at {docker_host()} (")
    assert message.endswith("; use --gp-services=embedded")


def test_a_docker_host_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    host = "unix:///nonexistent/golden-path-test/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    with pytest.raises(ServicesError, match=f"no Docker engine at {host} "):
        DockerProvider().start()


def test_an_absent_engine_is_noticed_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    # 'auto' asks the engine on every run, so an absent one must not cost the run seconds.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # discard port: nothing answers
    began = time.monotonic()
    problem = engine_problem()
    elapsed = time.monotonic() - began
    assert problem is not None
    assert "tcp://127.0.0.1:9" in problem
    assert elapsed < ENGINE_TIMEOUT_S + 2.0


def test_auto_without_urls_picks_docker_only_when_an_engine_answers() -> None:
    expected = "docker" if engine_problem() is None else "embedded"
    assert resolve_provider_name("auto", env={}) == expected
