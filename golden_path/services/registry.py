"""A record of the servers and directories each owner process made, so a later run can clean up.

Each owner writes ``<tempdir>/golden-path-services/<pid>.json`` naming itself
(pid and start time), the server processes it launched and the directories it
created. If the owner is killed before it can stop them, the next
:func:`reap_orphans` (run by every embedded start) stops those servers and
removes those directories. A pid is trusted only together with its start time,
so a recycled pid is never signalled.

Containers cannot be listed in such a file before they exist, so the docker
provider labels each one with its :class:`Owner` instead (see
``golden_path.services.docker.sweep_orphans``); the same rule decides when it
is an orphan.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from golden_path.services.processes import is_alive, process_start_time, wait_for_exit


def host_identity() -> str:
    """This boot of this machine and this pid namespace: the scope in which a pid names a process.

    A container engine may be shared by several machines or by containers with their own pid
    namespaces; a pid recorded in another scope says nothing about a process here.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "pid:[?]"
    return f"{boot}/{namespace}"


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that started something, named so that a recycled pid is not mistaken for it."""

    pid: int
    start_time: int | None
    host: str

    @classmethod
    def this_process(cls) -> Owner:
        pid = os.getpid()
        return cls(pid=pid, start_time=process_start_time(pid), host=host_identity())

    def is_gone(self) -> bool:
        """``True`` only when this owner was in our scope and no longer runs there.

        An owner from another machine or pid namespace is never judged gone: we cannot see it.
        """
        return self.host == host_identity() and not is_alive(self.pid, self.start_time)


def registry_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "golden-path-services"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass
class ProcessRecord:
    pid: int
    start_time: int | None
    stop_signal: int


@dataclass
class OwnerRecord:
    owner_pid: int
    owner_start_time: int | None
    processes: list[ProcessRecord] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    # One record per provider: a process may run several (each stops and forgets its own).
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @classmethod
    def for_this_process(cls) -> OwnerRecord:
        pid = os.getpid()
        return cls(owner_pid=pid, owner_start_time=process_start_time(pid))

    def path(self) -> Path:
        return registry_dir() / f"{self.owner_pid}-{self.record_id}.json"

    def add_process(self, pid: int, stop_signal: signal.Signals) -> None:
        self.processes.append(ProcessRecord(pid, process_start_time(pid), int(stop_signal)))
        self.save()

    def add_directory(self, path: Path) -> None:
        self.directories.append(str(path))
        self.save()

    def save(self) -> None:
        target = self.path()
        staging = target.with_suffix(".tmp")
        staging.write_text(json.dumps(asdict(self)))
        staging.replace(target)

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path().unlink()

    @classmethod
    def load(cls, path: Path) -> OwnerRecord | None:
        try:
            data = json.loads(path.read_text())
            return cls(
                owner_pid=int(data["owner_pid"]),
                owner_start_time=data.get("owner_start_time"),
                processes=[ProcessRecord(**p) for p in data.get("processes", [])],
                directories=[str(d) for d in data.get("directories", [])],
                record_id=str(data.get("record_id") or path.stem),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def reap_orphans() -> list[int]:
    """Stop servers and remove directories whose owner is gone. Returns the pids stopped."""
    stopped: list[int] = []
    for path in sorted(registry_dir().glob("*.json")):
        record = OwnerRecord.load(path)
        if record is None:
            path.unlink(missing_ok=True)
            continue
        if is_alive(record.owner_pid, record.owner_start_time):
            continue
        for proc in record.processes:
            if stop_process(proc.pid, proc.start_time, signal.Signals(proc.stop_signal)):
                stopped.append(proc.pid)
        for directory in record.directories:
            shutil.rmtree(directory, ignore_errors=True)
        path.unlink(missing_ok=True)
    return stopped


def stop_process(
    pid: int, start_time: int | None, sig: signal.Signals, timeout: float = 10.0
) -> bool:
    """Signal a process we do not own (it may not be our child); kill it if it lingers."""
    if not is_alive(pid, start_time):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
        if not wait_for_exit(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            wait_for_exit(pid, timeout)
    return True
