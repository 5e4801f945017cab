"""Run the end-to-end suite against a server reached only by URL, as a deployment would be.

With ``--url`` it targets that deployment. Without it, it starts ``golden-path serve``
as a separate process (on its own embedded services) configured as a deployment ships
(the default login and signup throttles, the strong password hash), with this machine
exempted from the throttles by ``GOLDEN_PATH_THROTTLE_EXEMPT`` as an operator exempts
their CI runners; runs the v1 conformance suite shipped in the package against it, through
``golden-path conformance --protocol v1 --url URL`` (as a team would), and stops it,
whatever happens. The tests that need the reference server's internals stay in tests/e2e
(marked ``reference_only``); the main pass runs them against the harness's own servers.

    python scripts/conformance.py [--url URL] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from golden_path.server.config import Settings
from golden_path.server.runner import ChildServer, ServeProcess

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0
LOG = Path(tempfile.gettempdir()) / "golden-path-conformance-server.log"


# The suite connects from this machine (127.0.0.1, or ::1 where localhost is IPv6).
RUNNER = ("127.0.0.1/32", "::1/128")


def start_server(jwt_secret: str, *, step_delay_ms: int = 0) -> ServeProcess:
    """``golden-path serve`` on its own embedded services (no DSN, no Redis URL given), as a
    deployment ships (default throttles, strong hashing), its CI runner exempted;
    ``step_delay_ms``: the agent's simulated latency per step."""
    # Every other setting at its default: the throttles, and the strong password hash.
    settings = Settings(
        jwt_secret=jwt_secret, throttle_exempt=RUNNER, agent_step_delay_ms=step_delay_ms
    )
    LOG.unlink(missing_ok=True)
    server = ServeProcess(settings.validated(), log_path=LOG, cwd=ROOT).start(READY_TIMEOUT_S)
    answer = httpx.get(f"{server.base_url}/readyz", timeout=READY_TIMEOUT_S)
    if answer.status_code != 200:
        server.stop()
        raise SystemExit(f"{server.base_url}/readyz answered {answer.status_code}: {answer.text}")
    return server


def conformance_command(protocol: str, url: str, pytest_args: list[str]) -> list[str]:
    """``golden-path conformance``: the suite shipped in the package, run by the command a
    team runs, from this repository's folder (its pytest.ini's settings)."""
    cli = [sys.executable, "-m", "golden_path.cli", "conformance"]
    return [*cli, "--protocol", protocol, "--url", url, "--", *pytest_args]


def run_suite(
    label: str, command: list[str], env: dict[str, str], server: ChildServer | None
) -> int:
    """Run ``command`` (a pytest run against the server); on failure, show the server's log."""
    status = subprocess.call(command, env=env, cwd=ROOT)
    if status != 0 and server is not None:
        print(f"{label}: the server's log is in {server.log_path}; its end:", flush=True)
        print(server.tail(40))
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running protocol v1 server")
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]
    env = dict(os.environ)
    server: ServeProcess | None = None
    url = args.url
    try:
        if url is None:
            # Shared with the tests, so their token factory can mint tokens this server accepts.
            env["GOLDEN_PATH_JWT_SECRET"] = secrets.token_urlsafe(48)
            server = start_server(env["GOLDEN_PATH_JWT_SECRET"])
            url = server.base_url
        return run_suite("conformance", conformance_command("v1", url, pytest_args), env, server)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
