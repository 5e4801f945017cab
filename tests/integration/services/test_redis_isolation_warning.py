"""A Redis whose default user has no password isolates nothing, and the harness says so.

An external Redis is the team's: the harness cannot give its default user a password.
Where ``AUTH default <anything>`` succeeds, every ACL user it makes is bypassed in one
command, so the workers' Redis is reported as not isolated (a warning in the run),
never claimed. The Redis here is a real one started without a password.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden_path.services.embedded import find_redis_server, postgres_account, reachable_binary
from golden_path.services.model import Services
from golden_path.services.processes import free_port, launch
from golden_path.testing.services.redis_acl import default_user_opens, grant_worker, remove_users
from golden_path.testing.services.session import shared_services

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team on its own Redis learns when the harness cannot keep its test "
        "workers apart, instead of trusting an isolation that does not hold",
        revenue_impact="a claimed isolation that one AUTH command undoes makes flaky, "
        "order-dependent failures look like product bugs",
    ),
]


@pytest.fixture
def open_redis() -> Iterator[str]:
    """A Redis on the loopback whose default user takes any password, stopped afterwards."""
    account = postgres_account()  # never root: a root Redis can write files anywhere
    folder = Path(tempfile.mkdtemp(prefix="gp-open-redis-"))
    if account.uid is not None:
        os.chown(folder, account.uid, account.gid if account.gid is not None else -1)
    port = free_port()
    binary = str(reachable_binary(find_redis_server(), account))
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--databases", "16", "--dir", str(folder)]
    server = launch(
        "redis-server",
        argv,
        log_path=folder / "redis.log",
        ready_pattern=r"Ready to accept connections",
        stop_signal=signal.SIGTERM,
        run_as=account,
        cwd=folder,
    )
    try:
        server.wait_ready(30.0)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_without_a_default_password_the_workers_are_said_not_isolated(
    open_redis: str,
) -> None:
    assert await default_user_opens(open_redis)
    made = await grant_worker(open_redis, "gp-open-w", "gp:open:w:")
    try:
        assert not made.isolated
        assert "default user has no password" in made.why_not
    finally:
        await remove_users(open_redis, "gp-open-")


async def test_the_runs_own_redis_has_its_default_user_closed(
    request: pytest.FixtureRequest, gp_services: Services
) -> None:
    assert not await default_user_opens(shared_services(request.config).redis_admin_url)
