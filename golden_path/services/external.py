"""The external provider: servers that already run, named by URL."""

from __future__ import annotations

import os

from golden_path.services.model import Services, ServicesError

POSTGRES_ENV = "GOLDEN_PATH_POSTGRES_DSN"
REDIS_ENV = "GOLDEN_PATH_REDIS_URL"


def external_urls(env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """Both URLs when both are set; ``None`` when neither is; an error when only one is."""
    env = dict(os.environ) if env is None else env
    dsn, url = env.get(POSTGRES_ENV, "").strip(), env.get(REDIS_ENV, "").strip()
    if dsn and url:
        return dsn, url
    if dsn or url:
        missing = REDIS_ENV if dsn else POSTGRES_ENV
        present = POSTGRES_ENV if dsn else REDIS_ENV
        raise ServicesError(
            f"external provider: {present} is set but {missing} is not; set both, "
            "or neither to let golden-path start its own servers"
        )
    return None


class ExternalProvider:
    """Uses running servers; starts and stops nothing."""

    name = "external"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = env

    def start(self) -> Services:
        urls = external_urls(self._env)
        if urls is None:
            raise ServicesError(
                f"external provider: set {POSTGRES_ENV} (postgresql://user:pass@host:port/db) "
                f"and {REDIS_ENV} (redis://host:port/0), or use --gp-services=embedded"
            )
        dsn, url = urls
        from golden_path.services.probe import probe_services  # asyncpg, redis: when used

        return probe_services(Services(postgres_dsn=dsn, redis_url=url, provider=self.name))

    def stop(self) -> None:
        """Nothing to stop: the servers belong to someone else."""
