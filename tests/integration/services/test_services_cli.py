"""``golden-path services up``: real servers for manual work, stopped cleanly by a signal."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from golden_path.services.registry import OwnerRecord, stop_process
from tests.integration.services.servers import (
    POSTGRES_COMM,
    REDIS_COMM,
    ServerPid,
    gone,
    owner_record,
    pg_roundtrip,
    postgres_answers,
    redis_answers,
    redis_roundtrip,
    servers_of,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a developer gets real PostgreSQL and Redis with one command and gets "
        "every trace removed by Ctrl-C",
        revenue_impact="a fast local loop on real services shortens time to the first working "
        "integration, which drives adoption",
    ),
]

# `python -m golden_path.cli` (golden_path/cli.py has an `if __name__ == "__main__"` guard) and
# the console script that `pip install` puts next to the interpreter.
CLI_MODULE = [sys.executable, "-m", "golden_path.cli"]
CLI_SCRIPT = [str(Path(sys.executable).with_name("golden-path"))]


@dataclass
class Running:
    process: subprocess.Popen[str]
    first_line: str
    record: OwnerRecord
    postgres: ServerPid
    redis: ServerPid
    root: Path


def _stop_everything(running: Running) -> None:
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(30)
    for server in (running.postgres, running.redis):
        stop_process(server.pid, server.start_time, signal.SIGKILL)


@pytest.fixture
def services_up(request: pytest.FixtureRequest) -> Iterator[Running]:
    """``services up --provider embedded``; the param gives the command and extra arguments."""
    command, extra = getattr(request, "param", (CLI_MODULE, ["--json"]))
    process = subprocess.Popen(
        [*command, "services", "up", "--provider", "embedded", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    try:
        assert first_line, f"no output; stderr: {process.stderr.read() if process.stderr else ''}"
        record = owner_record(process.pid)
        servers = servers_of(record)
        assert set(servers) == {POSTGRES_COMM, REDIS_COMM}
    except BaseException:
        process.kill()
        process.wait(30)
        raise
    running = Running(
        process=process,
        first_line=first_line,
        record=record,
        postgres=servers[POSTGRES_COMM],
        redis=servers[REDIS_COMM],
        root=Path(record.directories[0]),
    )
    try:
        yield running
    finally:
        _stop_everything(running)


def _assert_all_gone(running: Running, dsn: str, url: str) -> None:
    assert gone(running.postgres)
    assert gone(running.redis)
    assert not running.root.exists()
    assert not running.record.path().exists()
    assert not postgres_answers(dsn)
    assert not redis_answers(url)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_services_up_json_serves_then_stops_cleanly_on(
    services_up: Running, sig: signal.Signals
) -> None:
    announced = json.loads(services_up.first_line)
    assert set(announced) == {"postgres_dsn", "redis_url", "provider"}
    assert announced["provider"] == "embedded"
    dsn, url = announced["postgres_dsn"], announced["redis_url"]
    assert asyncio.run(pg_roundtrip(dsn)) == [(1, "first"), (2, "second")]
    assert asyncio.run(redis_roundtrip(url, "cli:k")) == b"value-1"
    assert services_up.root.is_dir()

    services_up.process.send_signal(sig)

    assert services_up.process.wait(30) == 0
    _assert_all_gone(services_up, dsn, url)


@pytest.mark.parametrize("services_up", [(CLI_SCRIPT, [])], indirect=True, ids=["script-text"])
def test_services_up_text_names_both_servers_and_how_to_stop(services_up: Running) -> None:
    match = re.fullmatch(
        r"postgres_dsn=(\S+) redis_url=(\S+) provider=embedded "
        r"\(PostgreSQL [\d.]+, Redis [\d.]+\); Ctrl-C or SIGTERM stops them\n",
        services_up.first_line,
    )
    assert match is not None, services_up.first_line
    dsn, url = match.groups()
    assert postgres_answers(dsn)
    assert redis_answers(url)

    services_up.process.send_signal(signal.SIGTERM)

    assert services_up.process.wait(30) == 0
    _assert_all_gone(services_up, dsn, url)


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI_MODULE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_services_up_without_docker_exits_1_with_the_reason() -> None:
    host = "unix:///nonexistent/golden-path-test/docker.sock"
    done = _run_cli("services", "up", "--provider", "docker", "--json", env={"DOCKER_HOST": host})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        f"golden-path services up: docker provider: no Docker engine at {host}"
    )
    assert "--gp-services=embedded" in done.stderr


def test_services_up_reports_a_bad_environment_setting() -> None:
    done = _run_cli("services", "up", "--json", env={"GOLDEN_PATH_SERVICES": "podman"})
    assert done.returncode == 1
    assert "unknown services provider 'podman' (from GOLDEN_PATH_SERVICES)" in done.stderr
    assert done.stdout == ""  # nothing was started, so nothing is announced


def test_services_up_refuses_an_unknown_provider_option() -> None:
    done = _run_cli("services", "up", "--provider", "nope")
    assert done.returncode == 2
    assert "invalid choice: 'nope'" in done.stderr
