"""Run the end-to-end suite against a server reached only by URL, as a deployment would be.

With ``--url`` it targets that deployment. Without it, it starts ``golden-path serve``
as a separate process (on its own embedded services), runs ``pytest tests/e2e
--gp-url=...`` against it, and stops it, whatever happens. Tests that need the
reference server's internals are marked ``reference_only`` and skipped there.

    python scripts/conformance.py [--url URL] [-- extra pytest args]
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
READY_TIMEOUT_S = 60.0
LOG = Path(tempfile.gettempdir()) / "golden-path-conformance-server.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drain(server: subprocess.Popen[str]) -> None:
    """Copy the server's log to LOG (its tail is printed if the run fails)."""
    assert server.stdout is not None
    with LOG.open("w") as log:
        for line in server.stdout:
            log.write(line)


def wait_until_ready(server: subprocess.Popen[str], url: str) -> None:
    """Read the server's log until uvicorn says it is up, then check /readyz once."""
    assert server.stdout is not None
    for line in server.stdout:
        sys.stdout.write(f"[serve] {line}")
        if "Uvicorn running on" in line:  # logged once the socket listens
            break
    else:
        raise SystemExit(f"golden-path serve exited with {server.wait()} before it was ready")
    # Keep reading: a server whose log pipe fills up blocks on its next log line.
    threading.Thread(target=drain, args=(server,), daemon=True).start()
    answer = httpx.get(f"{url}/readyz", timeout=READY_TIMEOUT_S)
    if answer.status_code != 200:
        raise SystemExit(f"{url}/readyz answered {answer.status_code}: {answer.text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running protocol v1 server")
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]
    env = dict(os.environ)
    server: subprocess.Popen[str] | None = None
    url = args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # Shared with the tests, so their token factory can mint tokens this server accepts.
        env["GOLDEN_PATH_JWT_SECRET"] = secrets.token_urlsafe(48)
        env["GOLDEN_PATH_PASSWORD_HASH"] = "fast"  # noqa: S105 - a hashing profile, not a secret
        for name in ("GOLDEN_PATH_POSTGRES_DSN", "GOLDEN_PATH_REDIS_URL"):
            env.pop(name, None)
        server = subprocess.Popen(
            [sys.executable, "-m", "golden_path.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
    try:
        if server is not None:
            wait_until_ready(server, url)
        print(f"conformance: running tests/e2e against {url}", flush=True)
        command = [sys.executable, "-m", "pytest", "tests/e2e", f"--gp-url={url}", *pytest_args]
        status = subprocess.call(command, env=env, cwd=ROOT)
        if status != 0 and server is not None:
            print(f"conformance: the server's log is in {LOG}; its end:", flush=True)
            print("".join(LOG.read_text(errors="replace").splitlines(keepends=True)[-40:]))
        return status
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    sys.exit(main())
