"""Benchmark the model at the wire beside ``@copilotkit/aimock`` and a floor, in one run.

Usage: ``python -m bench.model [--requests N]``. Three servers, each its own process
on loopback, answer the same streamed OpenAI chat requests with the same text:

* golden-path: ``golden-path model serve --script`` (scripts matching the size's word);
* aimock: ``@copilotkit/aimock`` 1.43 (npm, installed once into
  ``~/.cache/golden-path/aimock-bench``), fixtures with the same texts, chunked by 5
  characters (one word per chunk, as golden-path's);
* floor: ``bench/model_floor.py``, a bare Starlette SSE endpoint streaming the same
  chunks precomputed.

Lines: time to first byte (a 1-word answer, sequential requests) p50 and p99; chunks
per second on one 10,000-word stream; 200 concurrent 100-word streams (wall time and
p99 completion); and golden-path's memory under a slow reader of a 10,000-chunk stream
(the server's RSS growth). Progress goes to stderr, the table to stdout. Every server
started is stopped, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.model_floor import SIZES, text_of

AIMOCK_VERSION = "1.43.0"
AIMOCK_DIR = Path.home() / ".cache" / "golden-path" / "aimock-bench"
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {READY_TIMEOUT_S} s")


@contextmanager
def running(argv: list[str], port: int, cwd: Path | None = None) -> Iterator[int]:
    """Start ``argv`` (listening on ``port``); yield its pid; stop it whatever happens."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def aimock_cli() -> Path | None:
    cli = AIMOCK_DIR / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
    if cli.exists():
        return cli
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    AIMOCK_DIR.mkdir(parents=True, exist_ok=True)
    (AIMOCK_DIR / "package.json").write_text('{"name": "aimock-bench", "private": true}\n')
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"@copilotkit/aimock@{AIMOCK_VERSION}",
        ],
        cwd=AIMOCK_DIR,
        check=True,
    )
    return cli if cli.exists() else None


def write_fixtures(folder: Path) -> tuple[Path, Path]:
    script = folder / "golden-path.json"
    script.write_text(
        json.dumps(
            {
                "scripts": [
                    {"match": {"user": size}, "steps": [{"text": text_of(size)}]} for size in SIZES
                ]
            }
        )
    )
    fixtures = folder / "aimock.json"
    fixtures.write_text(
        json.dumps(
            {
                "fixtures": [
                    {"match": {"userMessage": size}, "response": {"content": text_of(size)}}
                    for size in SIZES
                ]
            }
        )
    )
    return script, fixtures


def body(size: str) -> dict[str, object]:
    return {"model": "bench", "stream": True, "messages": [{"role": "user", "content": size}]}


async def first_byte(client: httpx.AsyncClient, url: str) -> float:
    start = time.perf_counter()
    async with client.stream("POST", url, json=body("tiny")) as answer:
        chunks = answer.aiter_raw()
        await anext(chunks)
        elapsed = time.perf_counter() - start
        async for _ in chunks:
            pass
    return elapsed


async def whole_stream(client: httpx.AsyncClient, url: str, size: str) -> tuple[float, int]:
    start = time.perf_counter()
    events = 0
    async with client.stream("POST", url, json=body(size)) as answer:
        async for line in answer.aiter_lines():
            events += line.startswith("data:")
    return time.perf_counter() - start, events


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, requests: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        for _ in range(20):  # warm-up
            await first_byte(client, url)
        ttfb = [await first_byte(client, url) for _ in range(requests)]
        seconds, events = await whole_stream(client, url, "huge")
        start = time.perf_counter()
        done = await asyncio.gather(*(whole_stream(client, url, "medium") for _ in range(200)))
        wall = time.perf_counter() - start
    return {
        "ttfb_p50_ms": statistics.median(ttfb) * 1000,
        "ttfb_p99_ms": percentile(ttfb, 0.99) * 1000,
        "chunks_per_s": events / seconds,
        "concurrent_wall_s": wall,
        "concurrent_p99_s": percentile([d for d, _ in done], 0.99),
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slow_reader_growth(port: int, pid: int) -> float:
    """MiB the server grows by while a client reads a 10,000-chunk stream 4 KiB at a time."""
    before = rss_kib(pid)
    payload = json.dumps(body("huge")).encode()
    peak = before
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: "
            b"application/json\r\nauthorization: Bearer bench\r\ncontent-length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
            + payload
        )
        sock.settimeout(30)
        while True:
            chunk = sock.recv(4096)
            peak = max(peak, rss_kib(pid))
            if not chunk or chunk.endswith(b"0\r\n\r\n"):
                break
            time.sleep(0.002)
    return (peak - before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="time-to-first-byte samples")
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        script, fixtures = write_fixtures(Path(folder))
        port = free_port()
        gp = [
            sys.executable,
            "-m",
            "golden_path.cli",
            "model",
            "serve",
            "--port",
            str(port),
            "--script",
            str(script),
        ]
        print("bench.model: golden-path", file=sys.stderr, flush=True)
        with running(gp, port) as pid:
            rows["golden-path"] = asyncio.run(
                measure(f"http://127.0.0.1:{port}/v1/chat/completions", args.requests)
            )
            rows["golden-path"]["slow_reader_mib"] = slow_reader_growth(port, pid)
        cli = aimock_cli()
        if cli is not None:
            port = free_port()
            aimock = [
                "node",
                str(cli),
                "--port",
                str(port),
                "--fixtures",
                str(fixtures),
                "--chunk-size",
                "5",
                "--log-level",
                "silent",
            ]
            print("bench.model: aimock", file=sys.stderr, flush=True)
            with running(aimock, port) as pid:
                rows["aimock"] = asyncio.run(
                    measure(f"http://127.0.0.1:{port}/v1/chat/completions", args.requests)
                )
                rows["aimock"]["slow_reader_mib"] = slow_reader_growth(port, pid)
        port = free_port()
        floor = [sys.executable, "-m", "bench.model_floor", "--port", str(port)]
        print("bench.model: floor", file=sys.stderr, flush=True)
        with running(floor, port, cwd=Path(__file__).resolve().parent.parent) as pid:
            rows["floor"] = asyncio.run(
                measure(f"http://127.0.0.1:{port}/v1/chat/completions", args.requests)
            )
            rows["floor"]["slow_reader_mib"] = slow_reader_growth(port, pid)
    columns = list(next(iter(rows.values())))
    print("| server | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.2f}" for c in columns) + " |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
