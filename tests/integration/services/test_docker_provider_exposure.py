"""The docker provider's servers are open to no one else: loopback only, and a password.

testcontainers publishes a port on every interface by default, and the Redis image
runs without a password (protected mode off): during a run anyone on the network
could read or FLUSHALL it. On a local engine both ports are published on 127.0.0.1
only, and Redis refuses every client without its password, the default user's
included. Checked on the real engine (the docker pass of make test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError

from golden_path.services.docker import LOOPBACK, DockerProvider, engine_is_local
from golden_path.services.model import Services
from tests.integration.services.docker_engine import (
    containers_of_run,
    docker_client,
    skip_unless_asked_for,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.security,
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a CI machine running the suite in containers exposes no database or "
        "cache to its network",
        revenue_impact="an open Redis on a CI runner is a way into whatever else shares "
        "that network, and a FLUSHALL from outside fails the run for no reason",
    ),
]


@pytest.fixture(scope="module")
def started(request: pytest.FixtureRequest) -> Iterator[tuple[Any, DockerProvider, Services]]:
    skip_unless_asked_for(request.config)
    provider = DockerProvider()
    with docker_client() as engine:
        try:
            yield engine, provider, provider.start()
        finally:
            provider.stop()


def test_both_ports_are_published_on_the_loopback_only(
    started: tuple[Any, DockerProvider, Services],
) -> None:
    engine, provider, services = started
    assert engine_is_local(), "these runs use a local engine (container_engine.sh run)"
    for container in containers_of_run(engine, provider.run_id):
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"]
        published = [b for mapped in bindings.values() if mapped for b in mapped]
        assert published, container.attrs["NetworkSettings"]
        assert {b["HostIp"] for b in published} == {LOOPBACK}, published
    assert urlsplit(services.redis_url).hostname == LOOPBACK
    assert urlsplit(services.postgres_dsn).hostname == LOOPBACK


async def _refused(url: str, *command: str) -> BaseException:
    client = aioredis.Redis.from_url(url)
    try:
        await client.execute_command(*command)
    except (AuthenticationError, ResponseError) as exc:
        return exc
    finally:
        await client.aclose()
    raise AssertionError(f"Redis answered {command} at {url}")


def test_redis_refuses_every_client_without_its_password(
    started: tuple[Any, DockerProvider, Services],
) -> None:
    _, provider, services = started
    assert provider.redis_password
    parts = urlsplit(services.redis_url)
    bare = f"redis://{parts.hostname}:{parts.port}/0"
    unauthenticated = asyncio.run(_refused(bare, "GET", "anything"))
    assert isinstance(unauthenticated, AuthenticationError) or "NOAUTH" in str(unauthenticated)
    asyncio.run(_refused(bare, "FLUSHALL"))
    asyncio.run(_refused(bare, "AUTH", "default", "x"))
    asyncio.run(_refused(bare, "AUTH", "wrong-password"))
    # With it, Redis answers, and has a database pair for every worker of a run.
    client = aioredis.Redis.from_url(services.redis_url)

    async def databases() -> str:
        try:
            return str((await client.config_get("databases"))["databases"])
        finally:
            await client.aclose()

    assert asyncio.run(databases()) == "1024"


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("unix:///run/podman/podman.sock", True),
        ("tcp://127.0.0.1:2375", True),
        ("tcp://localhost:2375", True),
        ("tcp://build-host.example:2376", False),
        ("ssh://ci@runner.example", False),
    ],
)
def test_only_a_local_engine_is_held_to_the_loopback(host: str, local: bool) -> None:
    assert engine_is_local(host) is local
