"""The embedded provider's pristine cluster: ``initdb`` once per machine, a copy per start.

Each test gives the provider a data folder of its own (``GOLDEN_PATH_EMBEDDED_DIR``), so its
cache starts empty and nothing it does touches the run's. A cluster made by ``initdb`` has a
system identifier of its own; a copy keeps its source's: that is how these tests tell a copy
from a fresh ``initdb`` without looking inside the provider.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from golden_path.services.embedded import (
    DATA_DIR_ENV,
    EmbeddedProvider,
    data_root,
    find_postgres_bin,
    postgres_account,
    reachable_install,
)
from golden_path.services.pristine import cache_folder, pristine_cluster
from tests.integration.services.servers import pg_fetchval

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's first test runs sooner: PostgreSQL starts from a copy of a "
        "cluster made once, not from initdb on every run",
        revenue_impact="a harness that makes every run wait on initdb is the slow one teams "
        "drop for a mock",
    ),
]
SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()"


@pytest.fixture
def data_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty data root of this test's own, which the servers' account can traverse."""
    folder = Path(tempfile.mkdtemp(prefix="gp-pristine-test-", dir=data_root()))
    folder.chmod(0o711)
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def started_system_id() -> int:
    provider = EmbeddedProvider()
    services = provider.start()
    try:
        return int(str(asyncio.run(pg_fetchval(services.postgres_dsn, SYSTEM_ID))))
    finally:
        provider.stop()


def cached_caches(folder: Path) -> list[Path]:
    return sorted(folder.glob("golden-path-initdb-*"))


def test_two_starts_copy_one_cluster_made_once(data_folder: Path) -> None:
    first, second = started_system_id(), started_system_id()
    assert first == second, "the second start ran initdb instead of copying the cache"
    [cache] = cached_caches(data_folder)
    assert (cache / "pgdata" / "PG_VERSION").is_file()
    assert not [p for p in cache.iterdir() if p.name != "pgdata"], "a staging folder was left"


def test_a_cache_that_cannot_be_copied_is_replaced_and_the_start_still_works(
    data_folder: Path,
) -> None:
    first = started_system_id()
    [cache] = cached_caches(data_folder)
    unreadable = cache / "pgdata" / "base"
    unreadable.chmod(0o000)  # the servers' account can no longer copy it
    try:
        second = started_system_id()
    finally:
        if unreadable.exists():
            unreadable.chmod(0o700)
    assert second != first, "the broken cache was copied, or the start failed"
    assert not (cache / "pgdata").exists() or (cache / "pgdata" / "PG_VERSION").is_file()
    third = started_system_id()  # the next start makes the cache anew, then copies it
    assert (cache / "pgdata" / "PG_VERSION").is_file()
    assert third != first


def test_runs_making_the_cache_at_once_all_get_one_whole_cluster(data_folder: Path) -> None:
    account = postgres_account()
    pg_bin = reachable_install(find_postgres_bin(), account)
    with ThreadPoolExecutor(max_workers=3) as pool:
        made = list(pool.map(lambda _: pristine_cluster(pg_bin, account, data_folder), range(3)))
    assert made == [cache_folder(pg_bin, account, data_folder) / "pgdata"] * 3
    assert (made[0] / "PG_VERSION").is_file()
    assert [p.name for p in made[0].parent.iterdir()] == ["pgdata"], "staging left behind"
