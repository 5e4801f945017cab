"""``golden-path model serve`` (and ``record``'s proxy): an app in the foreground until a signal.

With ``--json`` one line ``{"openai_base_url": ..., "anthropic_base_url": ...}`` is
printed once the socket accepts connections; SIGINT and SIGTERM stop it cleanly
(exit 0).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable
from typing import Any

from golden_path.server.runner import GoldenPathServer, uvicorn_config
from golden_path.testing.model.app import ModelState, build_app
from golden_path.testing.model.files import ScriptFileError, load_scripts
from golden_path.testing.model.server import UVICORN_OPTIONS, anthropic_url, openai_url


class _AnnouncingServer(GoldenPathServer):
    def __init__(self, config: Any, announce: Callable[[], None]) -> None:
        super().__init__(config, grace_s=1.0)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._announce()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def run_app(app: Any, host: str, port: int, as_json: bool, what: str) -> int:
    """Serve ``app`` on ``host:port`` (0: the OS picks) until SIGINT or SIGTERM."""
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(f"golden-path model {what}: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{bound_port}"

    def announce() -> None:
        urls = {"openai_base_url": openai_url(base), "anthropic_base_url": anthropic_url(base)}
        if as_json:
            print(json.dumps(urls), flush=True)
        else:
            print(
                f"golden-path model {what}: OpenAI base URL {urls['openai_base_url']}, "
                f"Anthropic base URL {urls['anthropic_base_url']}; Ctrl-C or SIGTERM stops it",
                flush=True,
            )

    config = uvicorn_config(None, app, timeout_graceful_shutdown=2, **UVICORN_OPTIONS)
    server = _AnnouncingServer(config, announce)
    with sock, asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(server.serve(sockets=[sock]))
    return 0


def serve(script: str | None, host: str, port: int, as_json: bool) -> int:
    state = ModelState()
    if script:
        try:
            for loaded in load_scripts(script):
                state.current.add(loaded)
        except ScriptFileError as exc:
            print(f"golden-path model serve: {exc}", file=sys.stderr)
            return 2
    return run_app(build_app(state), host, port, as_json, "serve")
