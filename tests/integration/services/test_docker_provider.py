"""The docker provider on a real container engine: it starts, answers, stops, and leaks nothing.

Each test inspects the engine itself (containers by label), never the provider's own account.
They run when the docker provider is asked for (``--gp-services=docker``; make test's
docker pass) and are skipped, saying how to run them, otherwise; asked for, a missing
engine is an error (``docker_engine.py``). ``scripts/container_engine.sh run -- …``
provides an engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import docker.errors
import pytest

from golden_path.services.docker import (
    DEFAULT_REDIS_IMAGE,
    LABEL_OWNER_HOST,
    LABEL_OWNER_PID,
    LABEL_OWNER_START_TIME,
    LABEL_ROLE,
    LABEL_SESSION,
    REDIS_IMAGE_ENV,
    SESSION_ENV,
    DockerProvider,
    end_session,
    labelled_containers,
    remove_if_present,
    sweep_orphans,
)
from golden_path.services.model import ServicesError
from golden_path.services.processes import process_start_time, wait_for_exit
from golden_path.services.registry import host_identity
from golden_path.services.selection import resolve_provider_name
from tests.integration.services.docker_engine import (
    containers_of_owner,
    containers_of_run,
    docker_client,
    skip_unless_asked_for,
)
from tests.integration.services.servers import pg_roundtrip, redis_roundtrip

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="teams that run their services in containers get PostgreSQL and Redis that "
        "answer real queries, and no container outlives its run, even a failed or killed one",
        revenue_impact="CI machines do not fill up with orphaned databases, so teams keep the "
        "real-services suite on instead of turning it off",
    ),
]

READY_LINE_TIMEOUT_S = 120.0


@pytest.fixture(autouse=True)
def _only_when_docker_is_asked_for(request: pytest.FixtureRequest) -> None:
    skip_unless_asked_for(request.config)


@pytest.fixture
def engine() -> Iterator[Any]:
    """A client of the provider's engine; an error (in CI) or a skip if there is none."""
    with docker_client() as client:
        yield client


def _redis_image() -> str:
    return os.environ.get(REDIS_IMAGE_ENV, DEFAULT_REDIS_IMAGE)


def test_start_gives_answering_servers_labelled_with_their_owner_and_stop_removes_them(
    engine: Any,
) -> None:
    provider = DockerProvider()
    try:
        services = provider.start()
        assert services.provider == "docker"
        assert asyncio.run(pg_roundtrip(services.postgres_dsn)) == [(1, "first"), (2, "second")]
        assert asyncio.run(redis_roundtrip(services.redis_url, "docker:k")) == b"value-1"
        running = containers_of_run(engine, provider.run_id)
        assert sorted(c.labels[LABEL_ROLE] for c in running) == ["postgres", "redis"]
        for container in running:
            assert container.status == "running"
            assert container.labels[LABEL_OWNER_PID] == str(os.getpid())
            assert container.labels[LABEL_OWNER_START_TIME] == str(process_start_time(os.getpid()))
            assert container.labels[LABEL_OWNER_HOST] == host_identity()
        # A sweep (another run starting) leaves a live owner's containers alone.
        assert not set(sweep_orphans()) & {c.id for c in running}
        assert len(containers_of_run(engine, provider.run_id)) == 2
    finally:
        provider.stop()
    assert containers_of_run(engine, provider.run_id) == []


def test_a_postgres_that_never_answers_fails_the_start_and_is_removed(engine: Any) -> None:
    # The Redis image in PostgreSQL's place: the container runs, but nothing ever listens on
    # 5432. The old provider recorded a container only once its start returned: this one leaked.
    provider = DockerProvider(postgres_image=_redis_image(), postgres_command=[], ready_timeout=3)
    with pytest.raises(ServicesError, match=r"postgres in container .* did not answer within 3 s"):
        provider.start()
    assert containers_of_run(engine, provider.run_id) == []


def test_a_redis_that_exits_fails_the_start_at_once_and_nothing_is_left(engine: Any) -> None:
    provider = DockerProvider(redis_command=["redis-server", "--port", "not-a-port"])
    with pytest.raises(ServicesError, match=r"the redis container .* exited \(status [1-9]"):
        provider.start()
    assert containers_of_run(engine, provider.run_id) == []


def test_stop_removes_every_container_even_when_one_is_already_gone(engine: Any) -> None:
    provider = DockerProvider()
    try:
        provider.start()
        (redis,) = [
            c for c in containers_of_run(engine, provider.run_id) if c.labels[LABEL_ROLE] == "redis"
        ]
        redis.remove(force=True)  # gone behind the provider's back: stop() meets NotFound first
    finally:
        provider.stop()
    assert containers_of_run(engine, provider.run_id) == []


def _start_owner(argv: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GOLDEN_PATH_SERVICES="docker")
    owner = subprocess.Popen(
        [sys.executable, *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()  # the ready line, or EOF if it failed
    if not line.strip():
        owner.kill()
        _, err = owner.communicate(timeout=READY_LINE_TIMEOUT_S)
        raise AssertionError(f"{argv} did not report ready: {err.decode(errors='replace')}")
    answer = json.loads(line)
    assert answer.get("ok", True)
    assert (answer.get("services") or answer)["provider"] == "docker"
    return owner


@pytest.mark.parametrize(
    ("argv", "next_run"),
    [
        pytest.param(
            ["-m", "golden_path.services.supervisor", "--provider", "docker"],
            "provider_start",
            id="supervisor-then-next-start",
        ),
        pytest.param(
            ["-m", "golden_path.cli", "services", "up", "--provider", "docker", "--json"],
            "sweep",
            id="services-up-then-sweep",
        ),
    ],
)
def test_containers_of_a_sigkilled_owner_are_removed_by_the_next_run(
    engine: Any, argv: list[str], next_run: str
) -> None:
    owner = _start_owner(argv)
    try:
        left = {c.id for c in containers_of_owner(engine, owner.pid)}
        assert len(left) == 2
        owner.send_signal(signal.SIGKILL)
        owner.communicate(timeout=READY_LINE_TIMEOUT_S)
        assert wait_for_exit(owner.pid, 10.0)
        # Nothing of the killed owner's could remove them: they are still there.
        assert {c.id for c in containers_of_owner(engine, owner.pid)} == left
        if next_run == "sweep":
            assert left <= set(sweep_orphans())
        else:
            provider = DockerProvider()
            try:
                provider.start()  # sweeps first, as every embedded start reaps the registry
            finally:
                provider.stop()
        assert containers_of_owner(engine, owner.pid) == []
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.communicate(timeout=READY_LINE_TIMEOUT_S)
        for container in containers_of_owner(engine, owner.pid):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_auto_picks_docker_when_an_engine_answers(engine: Any) -> None:
    assert resolve_provider_name("auto", env={}) == "docker"


def test_the_end_of_a_session_removes_its_containers_even_from_a_live_owner(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What scripts/container_engine.sh does when its command ends: nothing may outlive it.
    session = f"test-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv(SESSION_ENV, session)
    provider = DockerProvider()
    try:
        provider.start()
        ours = {c.id for c in containers_of_run(engine, provider.run_id)}
        assert {c.labels[LABEL_SESSION] for c in containers_of_run(engine, provider.run_id)} == {
            session
        }
        assert set(end_session(session, grace_s=0.2)) == ours  # we are alive: after the grace
        assert containers_of_run(engine, provider.run_id) == []
    finally:
        provider.stop()  # finds both gone: no error


def test_a_container_removed_by_someone_else_meanwhile_is_not_an_error(engine: Any) -> None:
    """Two runs sweep at once: one lists a container the other then removes. The listing
    must not inspect each container afterwards (podman answers 500 for a gone one; a CI
    run failed so), and removing one already gone is a quiet ``False``."""
    container = engine.containers.create(_redis_image(), labels={LABEL_OWNER_PID: "1"})
    try:
        listed = dict(labelled_containers(engine, LABEL_OWNER_PID))
        assert listed[container.id][LABEL_OWNER_PID] == "1"
        engine.api.remove_container(container.id, force=True)  # the other run, meanwhile
        assert container.id not in dict(labelled_containers(engine, LABEL_OWNER_PID))
        assert remove_if_present(engine, container.id) is False
    finally:
        with contextlib.suppress(docker.errors.APIError):
            engine.api.remove_container(container.id, force=True)
