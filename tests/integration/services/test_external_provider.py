"""The external provider against real running servers, and its messages when they do not answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.external import POSTGRES_ENV, REDIS_ENV, ExternalProvider
from golden_path.services.model import Services, ServicesError, dsn_with_database
from golden_path.services.processes import free_port
from golden_path.services.registry import OwnerRecord
from tests.integration.services.servers import (
    owner_record,
    pg_fetchval,
    pg_roundtrip,
    postgres_answers,
    redis_answers,
    redis_roundtrip,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="enterprise",
        goal="stability",
        value_impact="teams that already run PostgreSQL and Redis in CI point the harness at "
        "them and get a clear, password-free message when a URL is wrong",
        revenue_impact="enterprise CI setups adopt the harness without Docker or extra "
        "servers; a leaked password in a log would fail their security review",
    ),
]


@pytest.fixture(scope="module")
def running() -> Iterator[Services]:
    """Servers that already run, as far as the external provider is concerned."""
    provider = EmbeddedProvider()
    try:
        yield provider.start()
    finally:
        provider.stop()


def _env(dsn: str, url: str) -> dict[str, str]:
    return {POSTGRES_ENV: dsn, REDIS_ENV: url}


def test_external_probes_the_given_servers(running: Services) -> None:
    services = ExternalProvider(env=_env(running.postgres_dsn, running.redis_url)).start()
    assert services.provider == "external"
    assert (services.postgres_dsn, services.redis_url) == (running.postgres_dsn, running.redis_url)
    assert (services.postgres_version, services.redis_version) == (
        running.postgres_version,
        running.redis_version,
    )


def test_external_services_take_real_queries(running: Services) -> None:
    services = ExternalProvider(env=_env(running.postgres_dsn, running.redis_url)).start()
    assert asyncio.run(pg_roundtrip(services.postgres_dsn)) == [(1, "first"), (2, "second")]
    assert asyncio.run(redis_roundtrip(services.redis_url, "external:k")) == b"value-1"
    database = asyncio.run(pg_fetchval(services.postgres_dsn, "SELECT current_database()"))
    assert database == "postgres"


def test_external_stop_leaves_the_servers_running(running: Services) -> None:
    record_before: OwnerRecord = owner_record()
    provider = ExternalProvider(env=_env(running.postgres_dsn, running.redis_url))
    provider.start()
    provider.stop()
    assert postgres_answers(running.postgres_dsn)
    assert redis_answers(running.redis_url)
    assert owner_record() == record_before  # it registered nothing of its own


@pytest.mark.parametrize(
    ("user", "shown"),
    [("postgres", "postgres@"), ("postgres:s3cret", "postgres:***@")],
    ids=["no-password", "password"],
)
def test_wrong_postgres_port_says_postgres_does_not_answer(
    running: Services, user: str, shown: str
) -> None:
    port = free_port()
    dsn = f"postgresql://{user}@127.0.0.1:{port}/postgres"
    with pytest.raises(ServicesError) as caught:
        ExternalProvider(env=_env(dsn, running.redis_url)).start()
    message = str(caught.value)
    assert message.startswith(
        f"external provider: PostgreSQL at postgresql://{shown}127.0.0.1:{port}/postgres "
        "does not answer: "
    )
    assert "s3cret" not in message


def test_wrong_redis_port_says_redis_does_not_answer(running: Services) -> None:
    port = free_port()
    url = f"redis://:hunter2@127.0.0.1:{port}/0"
    with pytest.raises(ServicesError) as caught:
        ExternalProvider(env=_env(running.postgres_dsn, url)).start()
    message = str(caught.value)
    assert message.startswith(
        f"external provider: Redis at redis://:***@127.0.0.1:{port}/0 does not answer: "
    )
    assert "hunter2" not in message


def test_missing_database_is_reported_with_the_servers_reason(running: Services) -> None:
    dsn = dsn_with_database(running.postgres_dsn, "no_such_db")
    with pytest.raises(ServicesError, match='does not answer: database "no_such_db" does not'):
        ExternalProvider(env=_env(dsn, running.redis_url)).start()


def test_without_urls_external_explains_what_to_set() -> None:
    with pytest.raises(ServicesError) as caught:
        ExternalProvider(env={}).start()
    message = str(caught.value)
    assert POSTGRES_ENV in message
    assert REDIS_ENV in message
    assert "--gp-services=embedded" in message
