"""Run the AG-UI conformance suite against an AG-UI server reached only by URL.

With ``--url`` it targets that endpoint (the URL a ``RunAgentInput`` is POSTed to).
Without it, it starts ``examples/agui-pydantic-ai`` (a pydantic-ai agent behind
pydantic-ai's own AG-UI adapter) as its own process, in its own process group, on
a free port, with a fresh bearer token; runs ``pytest tests/e2e --gp-url URL
--gp-protocol=ag-ui`` against it; and stops the whole process group, whatever
happens.

    python scripts/agui_conformance.py [--url URL] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running AG-UI endpoint")
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]
    env = dict(os.environ)
    server: subprocess.Popen[str] | None = None
    url = args.url
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
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e",
            f"--gp-url={url}",
            "--gp-protocol=ag-ui",
            *pytest_args,
        ]
        status = subprocess.call(command, env=env, cwd=ROOT)
        if status != 0 and server is not None:
            print(f"agui-conformance: the server's log is in {LOG}; its end:", flush=True)
            print("".join(LOG.read_text(errors="replace").splitlines(keepends=True)[-40:]))
        return status
    finally:
        if server is not None:
            stop(server)


if __name__ == "__main__":
    sys.exit(main())
