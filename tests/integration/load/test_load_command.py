"""``golden-path load`` as a team runs it: Locust's master and two workers on this machine,
against the reference server (exit 0, no violation, both workers' runs in Locust's merged
count) and against a server that breaks the contract (exit 1, the rule named).

Each test runs the command as a process of its own (Locust patches the standard library
with gevent on import: never in the test's process), with a few users for a few seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from golden_path.server.runner import ServerThread
from golden_path.testing.server.endpoint import ServerEndpoint
from tests.integration.load.broken_server import BROKEN_RULE

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("events"),
    pytest.mark.timeout(120),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team loads its own server from many machines with Locust and its CI "
        "fails on the first broken contract, named by its rule",
        revenue_impact="a server that breaks the golden path only under load breaks it for "
        "paying customers at their busiest hour",
    ),
]

GOLDEN_PATH = str(Path(sys.executable).with_name("golden-path"))


def load(url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            GOLDEN_PATH,
            "load",
            "--url",
            url,
            "--users",
            "4",
            "--spawn-rate",
            "4",
            "--run-time",
            "4s",
            "--workers",
            "2",
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        check=False,
    )


def summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


@pytest.mark.parametrize("protocol", ["v1", "both"])  # both: v1's and AG-UI's users, mixed
def test_two_workers_load_the_reference_server_and_pass_the_gate(
    reference: ServerEndpoint, tmp_path: Path, protocol: str
) -> None:
    turns = "3" if protocol == "both" else "1"  # long conversations: each user's thread, 3 times
    done = load(
        reference.base_url, tmp_path, "--protocol", protocol, "--resume-share", "0.5",
        "--turns", turns,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = summary(tmp_path)
    assert result["violations"] == {}
    assert result["passed"] is True
    workers = result["workers"]
    assert len(workers) == 2, workers
    assert all(count["runs"] > 0 for count in workers.values()), workers
    assert sum(count["runs"] for count in workers.values()) == result["runs"]
    assert result["completed"] == result["runs"]
    assert (tmp_path / "report.html").stat().st_size > 0
    assert (tmp_path / "locust.json").exists()
    assert "golden-path load:" in done.stderr  # the progress line
    assert f"{result['runs']} runs" in done.stdout
    classes = {"v1": "V1User", "both": "AGUIUser, V1User"}[protocol]
    assert result["protocol"] == classes
    rows = json.loads((tmp_path / "locust.json").read_text())
    ran = {r["method"] for r in rows if r["name"] == "golden path run" and r["num_requests"]}
    assert ran == ({"v1"} if protocol == "v1" else {"v1", "AG-UI"})


def test_a_server_that_breaks_the_contract_fails_the_gate_naming_the_rule(
    broken: ServerThread, tmp_path: Path
) -> None:
    done = load(broken.base_url, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAILED: contract violation {BROKEN_RULE}" in done.stdout
    result = summary(tmp_path)
    assert set(result["violations"]) == {BROKEN_RULE}
    assert result["passed"] is False


def test_sigterm_stops_the_master_and_every_worker(
    reference: ServerEndpoint, tmp_path: Path
) -> None:
    command = [
        GOLDEN_PATH, "load", "--url", reference.base_url, "--users", "2", "--spawn-rate", "2",
        "--run-time", "5m", "--workers", "2", "--out", str(tmp_path),
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    children: list[psutil.Process] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the first progress line: master and workers are up
            if "2 workers" in line:
                break
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) == 3, children  # the master and two workers
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 130
        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert alive == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for child in children:  # only if the command failed to: no process outlives the test
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def test_a_worker_joins_the_master_as_another_machine_would(
    reference: ServerEndpoint, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port for the master, as a team names one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    joining = [GOLDEN_PATH, "load", "worker", "--master-host", "127.0.0.1"]
    worker = subprocess.Popen([*joining, "--master-port", str(port)], stdout=subprocess.DEVNULL)
    try:
        done = load(
            reference.base_url, tmp_path, "--workers", "1", "--remote-workers", "1",
            "--master-port", str(port),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert worker.wait(60) == 0  # the master told it to quit
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    workers = summary(tmp_path)["workers"]
    assert len(workers) == 2, workers
    assert all(count["runs"] > 0 for count in workers.values()), workers
