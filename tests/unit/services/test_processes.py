"""Server processes and the owner registry, on real (tiny) child processes.

No database or Redis is involved: ``sleep`` and ``sh`` stand in for servers, and the
registry is pointed at this test's own temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from golden_path.services.processes import (
    free_port,
    is_alive,
    launch,
    process_start_time,
    wait_for_exit,
)
from golden_path.services.registry import OwnerRecord, reap_orphans, registry_dir, stop_process

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="servers started for tests are stopped and their files removed even when "
        "a run is killed, so CI machines do not fill up with stray databases",
        revenue_impact="leaked servers make customers' CI flaky and slow, which erodes trust "
        "in the product's test harness",
    ),
]

SLEEP = shutil.which("sleep") or "/bin/sleep"
IGNORES_TERM = ["sh", "-c", "trap '' TERM; echo READY; exec sleep 60"]


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The registry folder, inside this test's tmp_path instead of the machine's temp dir."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = registry_dir()
    assert folder.parent == tmp_path
    return folder


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes a test starts; any still running at the end are killed and reaped."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(10)


def _sleeper(children: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([SLEEP, "60"])
    children.append(child)
    return child


def _ready_line(child: subprocess.Popen[bytes]) -> None:
    """Block until the child has printed its first line (its signal setup is done)."""
    assert child.stdout is not None
    assert child.stdout.readline() == b"READY\n"


def _exited_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait(10)
    return done.pid


def test_start_time_of_this_process_is_a_stable_int() -> None:
    first = process_start_time(os.getpid())
    assert isinstance(first, int)
    assert first > 0
    assert process_start_time(os.getpid()) == first


def test_start_time_of_a_missing_pid_is_none() -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert process_start_time(pid_max + 1) is None
    assert process_start_time(_exited_pid()) is None


def test_start_time_survives_spaces_and_parentheses_in_the_command_name(
    tmp_path: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    odd = tmp_path / "a) b (c"
    odd.symlink_to(shutil.which("sh") or "/bin/sh")
    child = subprocess.Popen(
        [str(odd), "-c", "echo READY; read line"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    children.append(child)
    _ready_line(child)  # the shell runs: the exec (and its new name) is complete
    assert Path(f"/proc/{child.pid}/comm").read_text().strip() == "a) b (c"
    started = process_start_time(child.pid)
    own = process_start_time(os.getpid())
    assert isinstance(started, int)
    assert own is not None
    assert started >= own


def test_is_alive_needs_the_matching_start_time() -> None:
    pid, start = os.getpid(), process_start_time(os.getpid())
    assert start is not None
    assert is_alive(pid, start)
    assert is_alive(pid, None)
    assert not is_alive(pid, start + 1)  # same pid, another process: a recycled pid
    assert not is_alive(_exited_pid(), None)


def test_wait_for_exit_waits_for_the_process(children: list[subprocess.Popen[bytes]]) -> None:
    child = _sleeper(children)
    assert not wait_for_exit(child.pid, 0.05)
    child.terminate()
    assert wait_for_exit(child.pid, 10)
    assert child.wait(10) == -signal.SIGTERM


def test_wait_for_exit_of_a_missing_pid_returns_at_once() -> None:
    assert wait_for_exit(_exited_pid(), 10)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_launch_reports_ready_logs_output_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = launch(
        "fake-server",
        ["sh", "-c", "echo starting; echo server is READY; exec sleep 60"],
        log_path=log,
        ready_pattern=r"is READY",
        stop_signal=signal.SIGTERM,
    )
    try:
        server.wait_ready(10)
        assert os.getsid(server.pid) == server.pid  # its own session: no terminal Ctrl-C
        assert server.tail() == "starting\nserver is READY"
    finally:
        server.stop()
    assert server.popen.returncode == -signal.SIGTERM
    assert log.read_text() == "starting\nserver is READY\n"


def test_wait_ready_raises_with_the_log_tail_when_the_server_exits(tmp_path: Path) -> None:
    server = launch(
        "broken-server",
        ["sh", "-c", "echo cannot bind port; exit 3"],
        log_path=tmp_path / "broken.log",
        ready_pattern=r"ready",
        stop_signal=signal.SIGTERM,
    )
    with pytest.raises(RuntimeError, match="broken-server exited with status 3") as caught:
        server.wait_ready(10)
    assert "cannot bind port" in str(caught.value)
    assert str(tmp_path / "broken.log") in str(caught.value)


def test_wait_ready_raises_when_the_ready_line_never_comes(tmp_path: Path) -> None:
    server = launch(
        "silent-server",
        [SLEEP, "60"],
        log_path=tmp_path / "silent.log",
        ready_pattern=r"ready",
        stop_signal=signal.SIGTERM,
    )
    try:
        with pytest.raises(RuntimeError, match="silent-server did not report ready within"):
            server.wait_ready(0.2)
    finally:
        server.stop()
    assert server.popen.returncode == -signal.SIGTERM


def test_server_stop_insists_with_sigkill(tmp_path: Path) -> None:
    server = launch(
        "stubborn-server",
        IGNORES_TERM,
        log_path=tmp_path / "stubborn.log",
        ready_pattern=r"READY",
        stop_signal=signal.SIGTERM,
    )
    server.wait_ready(10)
    server.stop(timeout=0.3)
    assert server.popen.returncode == -signal.SIGKILL


def test_owner_record_save_load_round_trip(
    registry: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    record = OwnerRecord.for_this_process()
    assert record.owner_pid == os.getpid()
    assert record.owner_start_time == process_start_time(os.getpid())
    server = _sleeper(children)
    record.add_process(server.pid, signal.SIGINT)
    record.add_directory(registry.parent / "data")
    assert record.path() == registry / f"{os.getpid()}-{record.record_id}.json"
    assert (registry.stat().st_mode & 0o777) == 0o700
    loaded = OwnerRecord.load(record.path())
    assert loaded == record
    assert loaded is not None
    assert loaded.processes[0].start_time == process_start_time(server.pid)
    assert loaded.processes[0].stop_signal == signal.SIGINT
    record.forget()
    assert not record.path().exists()
    record.forget()  # forgetting twice is fine


@pytest.mark.parametrize(
    "content", ["not json", "{}", '{"owner_pid": "x"}', '{"owner_pid": 1, "processes": [{}]}']
)
def test_load_of_a_broken_record_is_none(registry: Path, content: str) -> None:
    path = registry / "1.json"
    path.write_text(content)
    assert OwnerRecord.load(path) is None
    assert OwnerRecord.load(registry / "missing.json") is None


def test_reap_orphans_cleans_up_after_a_dead_owner(
    registry: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    owner = subprocess.Popen(["true"])
    owner_start = process_start_time(owner.pid)  # a zombie until waited for: still readable
    owner.wait(10)
    server = _sleeper(children)
    leftover = registry.parent / "leftover"
    (leftover / "pgdata").mkdir(parents=True)
    (leftover / "pgdata" / "PG_VERSION").write_text("18\n")
    record = OwnerRecord(owner_pid=owner.pid, owner_start_time=owner_start)
    record.add_process(server.pid, signal.SIGTERM)
    record.add_directory(leftover)

    assert reap_orphans() == [server.pid]

    assert server.wait(10) == -signal.SIGTERM
    assert not leftover.exists()
    assert not record.path().exists()


def test_reap_orphans_leaves_a_live_owner_alone(
    registry: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    server = _sleeper(children)
    kept = registry.parent / "kept"
    kept.mkdir()
    record = OwnerRecord.for_this_process()
    record.add_process(server.pid, signal.SIGTERM)
    record.add_directory(kept)

    assert reap_orphans() == []

    assert server.poll() is None
    assert kept.is_dir()
    assert OwnerRecord.load(record.path()) == record


def test_reap_orphans_treats_a_recycled_owner_pid_as_dead(registry: Path) -> None:
    own_start = process_start_time(os.getpid())
    assert own_start is not None
    stale = registry.parent / "stale"
    stale.mkdir()
    record = OwnerRecord(owner_pid=os.getpid(), owner_start_time=own_start - 1)
    record.add_directory(stale)

    assert reap_orphans() == []

    assert not stale.exists()
    assert not record.path().exists()


def test_reap_orphans_never_signals_a_recycled_server_pid(
    registry: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    bystander = _sleeper(children)
    start = process_start_time(bystander.pid)
    assert start is not None
    record = OwnerRecord(owner_pid=_exited_pid(), owner_start_time=None)
    record.add_process(bystander.pid, signal.SIGTERM)
    record.processes[0].start_time = start + 1  # the recorded server was another process
    record.save()

    assert reap_orphans() == []

    assert bystander.poll() is None
    assert not record.path().exists()


def test_reap_orphans_removes_unreadable_records(registry: Path) -> None:
    (registry / "4242.json").write_text("{truncated")
    assert reap_orphans() == []
    assert list(registry.iterdir()) == []


def test_stop_process_stops_a_sleeping_child(children: list[subprocess.Popen[bytes]]) -> None:
    child = _sleeper(children)
    start = process_start_time(child.pid)

    assert stop_process(child.pid, start, signal.SIGTERM)

    assert child.wait(10) == -signal.SIGTERM
    assert not is_alive(child.pid, start)
    assert not stop_process(child.pid, start, signal.SIGTERM)  # already gone: nothing to do


def test_stop_process_kills_a_child_that_ignores_the_signal(
    children: list[subprocess.Popen[bytes]],
) -> None:
    child = subprocess.Popen(IGNORES_TERM, stdout=subprocess.PIPE)
    children.append(child)
    _ready_line(child)

    assert stop_process(child.pid, process_start_time(child.pid), signal.SIGTERM, timeout=0.3)

    assert child.wait(10) == -signal.SIGKILL


def test_stop_process_spares_a_process_with_another_start_time(
    children: list[subprocess.Popen[bytes]],
) -> None:
    child = _sleeper(children)
    start = process_start_time(child.pid)
    assert start is not None
    assert not stop_process(child.pid, start + 1, signal.SIGTERM)
    assert child.poll() is None
