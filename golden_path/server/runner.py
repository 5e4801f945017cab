"""Run the server on a real port: in a background thread (tests, the demo) or in the foreground.

``ServerThread`` is what the pytest harness and ``golden-path demo`` use: a real
uvicorn server on 127.0.0.1, on a port the OS picks, started and stopped
without polling (start-up and shut-down signal events).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Generator
from typing import Any

import uvicorn

from golden_path.protocol import MAX_FRAME_BYTES
from golden_path.server.app import create_app
from golden_path.server.config import Settings

START_TIMEOUT_S = 60.0
SHUTDOWN_GRACE_S = 10.0


def uvicorn_config(settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn settings the protocol needs (64 KiB frames: bigger ones close 1009)."""
    options: dict[str, Any] = {
        "ws_max_size": MAX_FRAME_BYTES,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "lifespan": "on",
        "log_level": "warning",
        "timeout_graceful_shutdown": 15,
    }
    options.update(overrides)
    return uvicorn.Config(create_app(settings), **options)


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


class ServerThread:
    """A reference server in a thread of this process, on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1") -> None:
        self.settings = settings
        # IPPROTO_TCP named explicitly: asyncio disables Nagle only on sockets that say TCP.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = _ThreadServer(uvicorn_config(settings))
        self._settled = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="golden-path-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def app_state(self) -> Any:
        """The running server's ``ServerState`` (for tests of its internals)."""
        return app_state(self._server.config)

    @property
    def ready(self) -> bool:
        return self._server.ready.is_set()

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
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

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
