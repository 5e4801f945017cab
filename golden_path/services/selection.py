"""Which provider a run uses: ``auto`` picks external, then docker, then embedded."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal, get_args

from golden_path.services.external import ExternalProvider, external_urls
from golden_path.services.model import Provider, ServicesError

# The docker and embedded providers are imported only by the run that uses them: the docker
# SDK and testcontainers cost an embedded run's supervisor a tenth of a second at start.

ProviderName = Literal["auto", "external", "docker", "embedded"]
PROVIDER_NAMES: tuple[str, ...] = get_args(ProviderName)
SERVICES_ENV = "GOLDEN_PATH_SERVICES"


def requested_provider(option: str | None, env: dict[str, str] | None = None) -> str:
    """The provider asked for: the command-line option, else the env var, else ``auto``."""
    env = dict(os.environ) if env is None else env
    choice = ((option or "").strip() or env.get(SERVICES_ENV, "").strip() or "auto").lower()
    if choice not in PROVIDER_NAMES:
        raise ServicesError(
            f"unknown services provider {choice!r} (from "
            f"{'--gp-services' if option else SERVICES_ENV}); "
            f"expected one of: {', '.join(PROVIDER_NAMES)}"
        )
    return choice


def resolve_provider_name(
    choice: str,
    env: dict[str, str] | None = None,
    docker_problem: Callable[[], str | None] | None = None,
) -> str:
    """Turn ``auto`` into a concrete provider name; other names pass through."""
    if choice != "auto":
        return choice
    if external_urls(env) is not None:
        return "external"
    if docker_problem is None:
        from golden_path.services.docker import engine_problem

        docker_problem = engine_problem
    if docker_problem() is None:
        return "docker"
    return "embedded"


def make_provider(name: str, env: dict[str, str] | None = None) -> Provider:
    if name == "external":
        return ExternalProvider(env)
    if name == "docker":
        from golden_path.services.docker import DockerProvider

        return DockerProvider()
    if name == "embedded":
        from golden_path.services.embedded import EmbeddedProvider

        return EmbeddedProvider()
    raise ServicesError(f"unknown services provider {name!r}")
