"""Run the AG-UI conformance suite against an AG-UI server reached only by URL.

With ``--url`` it targets that endpoint (the URL a ``RunAgentInput`` is POSTed to).
With ``--reference`` it starts ``golden-path serve`` (on its own embedded services),
signs an enterprise user up and runs ``tests/e2e/agui`` against the server's
``/agui`` with that user's bearer token. Without either, it starts
``examples/agui-pydantic-ai`` (a pydantic-ai agent behind pydantic-ai's own AG-UI
adapter) as its own process, in its own process group, on
a free port, with a fresh bearer token; runs ``pytest tests/e2e --gp-url URL
--gp-protocol=ag-ui`` against it; and stops the whole process group, whatever
happens.

    python scripts/agui_conformance.py [--url URL | --reference] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
from conformance import start_server  # scripts/conformance.py: golden-path serve

from golden_path.client import GoldenPathHTTP
from golden_path.server.agui.mapping import AGUI_PATH
from golden_path.testing.users import create_user
from golden_path.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "agui-pydantic-ai" / "app.py"
READY_TIMEOUT_S = 60.0
LOG = Path(tempfile.gettempdir()) / "golden-path-agui-conformance-server.log"
# What makes the example agent fail (see its module doc): its error path is tested too.
EXAMPLE_ERROR_PROMPT = "Please fail."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drain(server: subprocess.Popen[str]) -> None:
    """Copy the server's log to LOG (its tail is printed if the run fails)."""
    assert server.stdout is not None
    with LOG.open("a") as log:
        for line in server.stdout:
            log.write(line)


def wait_until_ready(server: subprocess.Popen[str], base: str) -> None:
    """Read the server's log until uvicorn listens, then check /healthz once."""
    assert server.stdout is not None
    with LOG.open("w") as log:
        for line in server.stdout:
            log.write(line)
            if "Uvicorn running on" in line:  # logged once the socket listens
                break
        else:
            raise SystemExit(f"the AG-UI example exited with {server.wait()} before it was ready")
    threading.Thread(target=drain, args=(server,), daemon=True).start()
    answer = httpx.get(f"{base}/healthz", timeout=READY_TIMEOUT_S)
    if answer.status_code != 200:
        raise SystemExit(f"{base}/healthz answered {answer.status_code}: {answer.text}")


def stop(server: subprocess.Popen[str]) -> None:
    """SIGTERM the server's whole process group, SIGKILL it if it lingers."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        server.wait()


def enterprise_token(base: str) -> str:
    """A new enterprise user's access token on the reference server at ``base`` (its
    limits let the suite's concurrent runs through)."""

    async def sign_up() -> str:
        async with GoldenPathHTTP(base) as api:
            return (await create_user(api, Tier.ENTERPRISE)).access_token

    return asyncio.run(sign_up())


def pytest_command(url: str, pytest_args: list[str], tests: str = "tests/e2e") -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        tests,
        f"--gp-url={url}",
        "--gp-protocol=ag-ui",
        *pytest_args,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running AG-UI endpoint")
    parser.add_argument(
        "--reference", action="store_true", help="test the reference server's /agui"
    )
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]
    env = dict(os.environ)
    server: subprocess.Popen[str] | None = None
    url = args.url
    if args.reference:
        reference = start_server(secrets.token_urlsafe(48))
        try:
            env["GOLDEN_PATH_AGUI_TOKEN"] = enterprise_token(reference.base_url)
            url = reference.base_url + AGUI_PATH
            # The AG-UI suite only: the peer's run already proves what --gp-protocol skips.
            print(f"agui-conformance: running tests/e2e/agui against {url}", flush=True)
            command = pytest_command(url, pytest_args, "tests/e2e/agui")
            return subprocess.call(command, env=env, cwd=ROOT)
        finally:
            reference.stop()
    if url is None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/agui"
        token = secrets.token_urlsafe(32)
        env["GOLDEN_PATH_AGUI_TOKEN"] = token
        env["GOLDEN_PATH_AGUI_ERROR_PROMPT"] = EXAMPLE_ERROR_PROMPT
        server = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--port", str(port)],
            env={**env, "AGUI_EXAMPLE_TOKEN": token},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    try:
        if server is not None:
            wait_until_ready(server, base)
        print(f"agui-conformance: running tests/e2e --gp-protocol=ag-ui against {url}", flush=True)
        status = subprocess.call(pytest_command(url, pytest_args), env=env, cwd=ROOT)
        if status != 0 and server is not None:
            print(f"agui-conformance: the server's log is in {LOG}; its end:", flush=True)
            print("".join(LOG.read_text(errors="replace").splitlines(keepends=True)[-40:]))
        return status
    finally:
        if server is not None:
            stop(server)


if __name__ == "__main__":
    sys.exit(main())
