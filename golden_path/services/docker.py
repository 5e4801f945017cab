"""The docker provider: PostgreSQL and Redis containers through testcontainers."""

from __future__ import annotations

import os
from typing import Any

from golden_path.services.model import Services, ServicesError
from golden_path.services.probe import probe_services

POSTGRES_IMAGE_ENV = "GOLDEN_PATH_POSTGRES_IMAGE"
REDIS_IMAGE_ENV = "GOLDEN_PATH_REDIS_IMAGE"
DEFAULT_POSTGRES_IMAGE = "postgres:16-alpine"
DEFAULT_REDIS_IMAGE = "redis:7-alpine"
ENGINE_TIMEOUT_S = 1.0


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def engine_problem(timeout: float = ENGINE_TIMEOUT_S) -> str | None:
    """``None`` when a Docker engine answers within ``timeout``; else why not."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (pip install 'golden-path[docker]')"
    try:
        client = docker.from_env(timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # the docker client raises many kinds; any means "no engine"
        return f"no Docker engine at {docker_host()} ({type(exc).__name__}: {exc})"
    return None


class DockerProvider:
    """One PostgreSQL and one Redis container, removed again by ``stop()``."""

    name = "docker"

    def __init__(self) -> None:
        self._containers: list[Any] = []

    def start(self) -> Services:
        problem = engine_problem()
        if problem is not None:
            raise ServicesError(f"docker provider: {problem}; use --gp-services=embedded")
        try:
            from testcontainers.postgres import PostgresContainer
            from testcontainers.redis import RedisContainer
        except ImportError as exc:
            raise ServicesError(
                f"docker provider: testcontainers is missing ({exc}); "
                "pip install 'golden-path[docker]' or use --gp-services=embedded"
            ) from exc
        try:
            postgres = PostgresContainer(
                os.environ.get(POSTGRES_IMAGE_ENV, DEFAULT_POSTGRES_IMAGE), driver=None
            )
            self._containers.append(postgres.start())
            redis = RedisContainer(os.environ.get(REDIS_IMAGE_ENV, DEFAULT_REDIS_IMAGE))
            self._containers.append(redis.start())
            redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
            services = Services(
                postgres_dsn=postgres.get_connection_url(),
                redis_url=redis_url,
                provider=self.name,
            )
            return probe_services(services)
        except ServicesError:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise ServicesError(
                f"docker provider: could not start containers ({type(exc).__name__}: {exc}); "
                "use --gp-services=embedded"
            ) from exc

    def stop(self) -> None:
        containers, self._containers = self._containers, []
        for container in reversed(containers):
            container.stop()
