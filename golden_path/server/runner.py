"""The one way to run a server: in this process, or as a process of its own.

* ``ServerThread(settings)``: a real uvicorn server in a background thread of this
  process, on 127.0.0.1 and a port the OS picks, started and stopped without
  polling (start-up and shut-down signal events). The harness's ``gp_server`` and
  ``golden-path demo`` use it.
* ``ChildServer(argv)``: any server as a child process (its own session, a
  parent-death signal, its log kept), ready once it says it listens, on the port
  the OS gave it; ``ServeProcess(settings)`` is ``golden-path serve`` so run.
  Extra nodes in tests, the conformance runs and the benchmark use them.
* ``GoldenPathServer``: the uvicorn server both run, with the protocol's graceful
  shutdown; ``golden-path serve`` runs it in the foreground.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn

from golden_path.protocol import MAX_FRAME_BYTES, websocket_url
from golden_path.server.config import ENV_PREFIX, Settings
from golden_path.server.extra import missing_extra
from golden_path.server.ws.uvicorn_protocol import WebSocketProtocol
from golden_path.services.processes import ServerProcess, launch

START_TIMEOUT_S = 60.0
SHUTDOWN_GRACE_S = 10.0
STOP_TIMEOUT_S = 30.0
# uvicorn logs this once the socket listens (start-up has completed before), with the port.
NEVER = re.compile(r"(?!)")  # a ready line that never comes: readiness is asked over HTTP
# The one way to tell that a uvicorn server (the reference server, a team's, the benchmark's
# echo) listens: its own start-up line, with the port it bound.
READY_LINE = re.compile(r"Uvicorn running on https?://(?P<host>[^\s:]+):(?P<port>\d+)")


def uvicorn_config(settings: Settings | None, app: Any = None, **overrides: Any) -> uvicorn.Config:
    """The uvicorn settings the protocol needs (64 KiB frames: bigger ones close 1009), for
    the reference server on ``settings``, or for another ASGI ``app``."""
    options: dict[str, Any] = {
        "ws_max_size": MAX_FRAME_BYTES,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "lifespan": "on",
        "log_level": "warning",
        "timeout_graceful_shutdown": 15,
        "ws": WebSocketProtocol,  # uvicorn's own, dropping a socket that stopped reading
        # The HTTP parser the reference server and teams' in-process apps are tested on;
        # the model at the wire asks for httptools (golden_path/testing/model/server.py).
        "http": "h11",
    }
    options.update(overrides)
    if app is None:
        try:
            from golden_path.server.app import create_app  # the whole server: only when served
        except ImportError as exc:
            missing = missing_extra(exc)
            if missing is not None:
                raise missing from exc
            raise
        app = create_app(settings)
    return uvicorn.Config(app, **options)


def app_state(config: uvicorn.Config) -> Any:
    """The ``ServerState`` of the app ``config`` serves, once its lifespan has opened it."""
    app: Any = config.app
    return getattr(getattr(app, "state", None), "gp", None)


class GoldenPathServer(uvicorn.Server):
    """uvicorn, with the protocol's graceful shutdown and a start-up event.

    On shutdown (SIGTERM, SIGINT or ``should_exit``) the server stops taking
    connections and runs, lets runs in flight finish within the grace period
    (their events still reach open sockets), closes every socket with 1001, and
    only then lets uvicorn close what is left (uvicorn alone would close with 1012).
    """

    def __init__(self, config: uvicorn.Config, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.grace_s = grace_s

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Handle SIGINT/SIGTERM as a graceful stop that ends the process normally.

        uvicorn re-raises the signal once it has shut down, which kills the process
        before ``golden-path serve`` can stop the embedded services it started.
        """
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        state = app_state(self.config)
        if state is not None:
            await state.stop_serving(self.grace_s)
        await super().shutdown(sockets)


class _ThreadServer(GoldenPathServer):
    def install_signal_handlers(self) -> None:
        """A background server leaves signals to the main thread."""


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a port of ``host`` the OS picks (read it with getsockname)."""
    # IPPROTO_TCP named explicitly: asyncio disables Nagle only on sockets that say TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class ServerThread:
    """A server in a thread of this process, on a free port of 127.0.0.1: the reference
    server on ``settings``, or any ASGI ``app`` (a team's own, say).

    The port is bound before the app is built (``port``), so an app can be told its URL.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        host: str = "127.0.0.1",
        *,
        app: Any = None,
        sock: socket.socket | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if (settings is None) == (app is None):
            raise ValueError("give the reference server's settings or an ASGI app, not both")
        self.settings = settings
        self._socket = sock or listening_socket(host)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = _ThreadServer(uvicorn_config(settings, app, **(config or {})))
        # asyncio's own loop unless ``config`` names one ("loop": "auto" is uvloop when installed).
        self._loop_factory = (
            self._server.config.get_loop_factory() if "loop" in (config or {}) else None
        )
        self._settled = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="golden-path-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return websocket_url(self.base_url)

    @property
    def app_state(self) -> Any:
        """The running server's ``ServerState`` (for tests of its internals)."""
        return app_state(self._server.config)

    @property
    def ready(self) -> bool:
        return self._server.ready.is_set()

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self._loop_factory) as runner:
                runner.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:
            self._error = exc
        finally:
            self._settled.set()
            self._server.ready.set()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT_S) or self._settled.is_set():
            self.stop()
            detail = f": {self._error!r}" if self._error else " (see the log above)"
            raise RuntimeError(f"the Golden Path server did not start{detail}")
        return self

    def stop(self, timeout: float = 30.0, grace_s: float | None = None) -> None:
        """Stop serving; runs in flight get ``grace_s`` (default: the protocol's grace
        period) to finish before they end ``interrupted``."""
        if grace_s is not None:
            self._server.grace_s = grace_s
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ChildServer:
    """An HTTP server run as a child process: its own session, a parent-death signal, its log
    drained to a file (and its tail kept), ready once it prints ``ready`` (by default
    uvicorn's "running on" line), whose ``port`` group says where it listens.

    Give the command port 0 and the port is read back from that line, so no other
    process can take it between choosing and binding.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ready: re.Pattern[str] | None = READY_LINE,
        health_path: str | None = None,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        if ready is None and health_path is None:
            raise ValueError("say how to tell the server is ready: a log line or a health path")
        self.argv = list(argv)
        self.name = name
        self.env = dict(os.environ if env is None else env)
        self.host = host
        self.port = port
        self._ready = ready
        self._health_path = health_path
        self._log_path = log_path
        self._own_log: Path | None = None
        self._cwd = cwd
        self._process: ServerProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return websocket_url(self.base_url)

    @property
    def process(self) -> ServerProcess:
        if self._process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def start(self, timeout: float = START_TIMEOUT_S) -> Self:
        """Start the server; return once it listens (raise with its log's end if it does not)."""
        log_path = self._log_path
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="golden-path-serve-", suffix=".log")
            os.close(fd)
            log_path = self._own_log = Path(name)
        self._process = launch(
            self.name,
            self.argv,
            log_path=log_path,
            ready_pattern=self._ready.pattern if self._ready is not None else NEVER.pattern,
            stop_signal=signal.SIGTERM,
            env=self.env,
            cwd=self._cwd,
        )
        try:
            if self._ready is not None:
                self._process.wait_ready(timeout)
                ready = self._ready.search(self._process.ready_line)
                assert ready is not None
                self.port = int(ready["port"]) if "port" in ready.groupdict() else self.port
            else:
                self._wait_healthy(timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        """Ask the health path until it answers 2xx, the process exits, or time runs out.

        A command of any language says nothing uvicorn-like, so readiness is the health
        endpoint itself, asked with a short, growing backoff.
        """
        url = self.base_url + (self._health_path or "/")
        deadline = time.monotonic() + timeout
        delay, last = 0.01, "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.popen.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with status {self.process.popen.returncode} "
                        f"before {url} answered; its log:\n{self.tail()}"
                    )
                try:
                    answer = client.get(url)
                    if answer.is_success:
                        return
                    last = f"HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"{self.name} was not ready within {timeout:.0f} s ({url}: {last}); "
                        f"its log:\n{self.tail()}"
                    )
                self.process.exited.wait(delay)  # returns at once if the server dies
                delay = min(delay * 2, 0.2)

    def tail(self, lines: int = 30) -> str:
        return self.process.tail(lines)

    def kill(self) -> None:
        """SIGKILL: a crash, with nothing cleaned up."""
        self.process.popen.kill()
        self.process.popen.wait(STOP_TIMEOUT_S)

    def terminate(self) -> None:
        """SIGTERM: ask for a graceful shutdown (returns at once; see :meth:`wait`)."""
        self.process.popen.send_signal(signal.SIGTERM)

    def stop_group(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the server and every process it started (its whole process group)."""
        if self._process is None:
            return
        pgid = self._process.pid  # launched in a session of its own: its group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # whatever it left behind in its group
        self.stop(timeout)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        return self.process.popen.wait(timeout)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it does not end within ``timeout``."""
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.stop(timeout)
        if self._own_log is not None:  # its tail stays in memory (``tail()``)
            self._own_log.unlink(missing_ok=True)
            self._own_log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServeProcess(ChildServer):
    """``golden-path serve`` as a child process, on ``settings``.

    The child's environment is this process's, with every ``GOLDEN_PATH_*`` variable
    replaced by ``settings.to_env()`` (so nothing leaks in from the parent). Leave
    ``settings.postgres_dsn`` and ``redis_url`` blank to have ``serve`` start embedded
    services of its own.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env.update(settings.to_env())
        argv = [sys.executable, "-m", "golden_path.cli", "serve", "--host", host]
        super().__init__(
            [*argv, "--port", str(port)],
            name="golden-path serve",
            env=env,
            host=host,
            log_path=log_path,
            cwd=cwd,
        )
        self.settings = settings
