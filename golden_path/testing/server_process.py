"""Reference servers in processes of their own, for tests of several nodes, crashes and shutdown.

``gp_server_process(**settings)`` starts ``golden-path serve`` on this worker's
database and Redis namespace, sharing the in-process server's JWT secret, so a
user's tokens work on every node. Each process dies with the test (and with
pytest: it gets a parent-death signal).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from golden_path.services.model import Services
from golden_path.services.processes import die_with_parent, free_port
from golden_path.testing.server_fixtures import TEST_JWT_SECRET

READY_LINE = "Uvicorn running on"  # logged once the socket listens (startup completes before)
STOP_TIMEOUT_S = 30.0


class ServerProcess:
    """``golden-path serve`` as a child process, with its log kept and its end observable."""

    def __init__(self, services: Services, **settings: Any) -> None:
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update(
            {
                "GOLDEN_PATH_POSTGRES_DSN": services.postgres_dsn,
                "GOLDEN_PATH_REDIS_URL": services.redis_url,
                "GOLDEN_PATH_REDIS_PREFIX": services.redis_namespace or "gp:",
                "GOLDEN_PATH_JWT_SECRET": TEST_JWT_SECRET,
                "GOLDEN_PATH_PASSWORD_HASH": "fast",
            }
        )
        for name, value in settings.items():
            self.env[f"GOLDEN_PATH_{name.upper()}"] = str(value)
        self.log: list[str] = []
        self._popen: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        assert self._popen is not None
        return self._popen.pid

    def start(self) -> ServerProcess:
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "golden_path.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=die_with_parent(signal.SIGKILL),
        )
        assert self._popen.stdout is not None
        for line in self._popen.stdout:
            self.log.append(line.rstrip())
            if READY_LINE in line:
                break
        else:
            code = self._popen.wait()
            raise RuntimeError(
                f"golden-path serve exited {code} before it was ready:\n" + self.tail()
            )
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        popen = self._popen
        assert popen is not None
        assert popen.stdout is not None
        for line in popen.stdout:
            self.log.append(line.rstrip())

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log[-lines:])

    def kill(self) -> None:
        """SIGKILL: a crash, with nothing cleaned up."""
        assert self._popen is not None
        self._popen.kill()
        self._popen.wait(STOP_TIMEOUT_S)

    def terminate(self) -> None:
        """SIGTERM: ask for a graceful shutdown (returns at once; see :meth:`wait`)."""
        assert self._popen is not None
        self._popen.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        assert self._popen is not None
        return self._popen.wait(timeout)

    def stop(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait(STOP_TIMEOUT_S)


ProcessFactory = Callable[..., ServerProcess]


@pytest.fixture
def gp_server_process(gp_services: Services) -> Iterator[ProcessFactory]:
    """``node = gp_server_process(agent_step_delay_ms=100)``: another server process, started."""
    started: list[ServerProcess] = []

    def start(**settings: Any) -> ServerProcess:
        process = ServerProcess(gp_services, **settings)
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.stop()
