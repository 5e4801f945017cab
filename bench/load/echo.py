"""The floor's first half: a bare WebSocket echo on the server's own stack, in its own process.

Starlette + uvicorn with the options of ``golden_path.server.runner.uvicorn_config``
(those of ``golden-path serve``); only the app differs. p50/p99 of 500 round trips of a
~1 KB JSON text. ``python -m bench.load.echo PORT`` serves it.

Not on Locust: the floor is not the golden path, and its round trips are a tenth of a
millisecond, timed in one client without a scheduler between send and receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.load import processes
from bench.load.settings import (
    ECHO_BYTES,
    ECHO_ROUND_TRIPS,
    ECHO_WARMUP,
    READY_TIMEOUT_S,
    ROOT,
    BenchError,
)
from golden_path.ids import EventID
from golden_path.server.runner import READY_LINE
from golden_path.services.processes import free_port, launch


def serve_echo(port: int) -> None:
    """The floor's server: one echo WebSocket route, uvicorn configured as the real server."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from golden_path.server.config import Settings
    from golden_path.server.runner import uvicorn_config

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    # The same options as `golden-path serve` (uvicorn_config, log level info); only the app
    # differs. The golden-path app it builds is never started.
    config = uvicorn_config(Settings().validated(), host="127.0.0.1", port=port, log_level="info")
    config.app = Starlette(routes=[WebSocketRoute("/echo", echo)])
    uvicorn.Server(config).run()


async def echo_round_trips(url: str, count: int) -> list[float]:
    """Milliseconds of ``count`` round trips of one ~1 KB event-shaped text (after a warm-up)."""
    frame: dict[str, Any] = {
        "type": "agent_thinking",
        "seq": 1,
        "event_id": str(EventID.new()),
        "reasoning": "",
        "step": 1,
    }
    frame["reasoning"] = "x" * (ECHO_BYTES - len(json.dumps(frame)))
    payload = json.dumps(frame)  # ECHO_BYTES long
    samples: list[float] = []
    async with connect(url, max_size=None, proxy=None) as ws:
        for number in range(ECHO_WARMUP + count):
            began = time.perf_counter()
            await ws.send(payload)
            answer = await ws.recv()
            elapsed = (time.perf_counter() - began) * 1000
            if answer != payload:
                raise BenchError("the echo server answered something else")
            if number >= ECHO_WARMUP:
                samples.append(elapsed)
    return samples


def floor_echo(log_dir: Path) -> list[float]:
    """Start the echo server, time its round trips, stop it (whatever happens)."""
    port = free_port()
    server = launch(
        "echo server",
        [sys.executable, "-m", "bench.load.echo", str(port)],
        log_path=log_dir / "echo.log",
        ready_pattern=READY_LINE.pattern,
        stop_signal=signal.SIGTERM,
        cwd=ROOT,
    )
    try:
        server.wait_ready(READY_TIMEOUT_S)
        return asyncio.run(echo_round_trips(f"ws://127.0.0.1:{port}/echo", ECHO_ROUND_TRIPS))
    finally:
        processes.stop(server)


if __name__ == "__main__":
    serve_echo(int(sys.argv[1]))
