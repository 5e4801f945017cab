"""The server under test: ``golden-path serve`` as a process of its own (or a given URL).

``start_server`` starts it through the project's one way to run a server as its own
process (``golden_path.server.runner.ServeProcess``): its own GIL, its own embedded
PostgreSQL and Redis, every setting at its default (the throttles and the strong
password hashing included) but 127.0.0.1 exempt from the signup and login throttles (the
Locust users' address), a port of 127.0.0.1 the OS picks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.load import processes
from bench.load.progress import say
from bench.load.settings import LOCUST_ADDRESS, READY_TIMEOUT_S, ROOT, STOP_TIMEOUT_S
from golden_path.server.config import Settings
from golden_path.server.runner import ServeProcess


def start_server(log_dir: Path) -> ServeProcess:
    """``golden-path serve`` on embedded services, once it listens; stopped if it does not."""
    # Blank DSN and Redis URL: `serve` starts embedded services of its own. Every setting
    # is the default a deployment has (Argon2id's strong profile, every throttle): the
    # benchmark's own users each sign up from a loopback address of their own (``sockets``),
    # and phase 4's abusers (127.0.0.2 and on) meet the defences as they are. Only
    # 127.0.0.1, where Locust's users sign up from (``locust``), is exempt from the
    # signup and login throttles, as a deployment exempts its load machines.
    settings = Settings(throttle_exempt=LOCUST_ADDRESS)
    server = ServeProcess(settings, log_path=log_dir / "serve.log", cwd=ROOT)
    say("starting golden-path serve on embedded services")
    try:
        server.start(READY_TIMEOUT_S)
    except BaseException:
        stop_server(server)
        raise
    say(f"golden-path serve (pid {server.pid}) listens on {server.base_url}")
    return server


def stop_server(server: ServeProcess) -> None:
    """SIGTERM (a graceful stop), then SIGKILL; uninterrupted by Ctrl-C or SIGTERM."""
    with processes.signals_held():
        server.stop(STOP_TIMEOUT_S)
    try:
        process = server.process
    except RuntimeError:
        return  # it was never launched
    if process.popen.poll() is None:
        say(f"golden-path serve (pid {server.pid}) did not exit; see {server.log_path}")


def code_version() -> str:
    """The commit of the code a started server runs, and whether golden_path/ has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "golden_path"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + uncommitted changes in golden_path/" if changes else head
