"""Child server processes: run them as the right user, know when they are ready, stop them.

Every server the project starts goes through :func:`launch`, which

* runs it in its own session (a Ctrl-C in the terminal reaches only us, and we
  stop servers in order);
* asks the kernel to signal it when its parent dies (``PR_SET_PDEATHSIG``), so a
  killed parent does not leave it running;
* drains its output into a log file from a thread, and lets the caller wait,
  without polling, for the line that says it is ready.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    def set_pdeathsig() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return set_pdeathsig


@dataclass(frozen=True, slots=True)
class RunAs:
    """The unprivileged account a server runs under (``None`` fields: the current user)."""

    uid: int | None = None
    gid: int | None = None
    name: str = ""


@dataclass
class ServerProcess:
    """A running server, its log, and the line that announces it is ready."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals
    _ready: bool = False
    ready_line: str = ""  # the line that matched ``ready_pattern``
    _settled: threading.Event = field(default_factory=threading.Event)
    _exited: threading.Event = field(default_factory=threading.Event)
    _tail: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exited(self) -> threading.Event:
        """Set once the process has exited and its output is drained."""
        return self._exited

    def wait_ready(self, timeout: float) -> None:
        """Return once the ready line was printed; raise with the log's tail otherwise."""
        self._settled.wait(timeout)
        if self._ready:
            return
        reason = (
            f"exited with status {self.popen.poll()}"
            if self._exited.is_set()
            else f"did not report ready within {timeout:.0f} s"
        )
        raise RuntimeError(f"{self.name} {reason}; last lines of {self.log_path}:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self._tail[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to stop with its own clean signal, then insist."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(self.stop_signal)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
            except ProcessLookupError:
                pass
        self._exited.wait(timeout)


def launch(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    ready_pattern: str,
    stop_signal: signal.Signals,
    run_as: RunAs = RunAs(),
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    """Start ``argv`` as a server; its output goes to ``log_path``."""
    kwargs: dict[str, object] = {}
    if run_as.uid is not None:
        kwargs.update(user=run_as.uid, group=run_as.gid, extra_groups=[])
    popen = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent(stop_signal),
        env=env,
        cwd=cwd,
        **kwargs,  # type: ignore[call-overload]
    )
    server = ServerProcess(name=name, popen=popen, log_path=log_path, stop_signal=stop_signal)
    threading.Thread(
        target=_drain,
        args=(server, re.compile(ready_pattern)),
        name=f"{name}-log",
        daemon=True,
    ).start()
    return server


def _drain(server: ServerProcess, ready: re.Pattern[str]) -> None:
    assert server.popen.stdout is not None
    with server.log_path.open("ab") as log:
        for raw in server.popen.stdout:
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", "replace").rstrip()
            server._tail.append(line)
            del server._tail[:-50]
            if not server._ready and ready.search(line):
                server.ready_line = line
                server._ready = True
                server._settled.set()
    server.popen.wait()
    server._exited.set()
    server._settled.set()


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or ``None`` if it is gone.

    A pid and its start time together name one process, even after pids wrap.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # exited, waiting to be reaped: not running any more
        return None
    return int(fields[19])


def is_alive(pid: int, start_time: int | None) -> bool:
    current = process_start_time(pid)
    if current is None:
        return False
    return start_time is None or current == start_time


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` (not necessarily our child) exits; ``True`` if it did in time."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        import select

        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)
