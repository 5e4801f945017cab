"""Run the AG-UI conformance suite against an AG-UI server reached only by URL.

With ``--url`` it targets that endpoint (the URL a ``RunAgentInput`` is POSTed to).
With ``--reference`` it starts ``golden-path serve`` (on its own embedded services),
signs an enterprise user up and runs the AG-UI suite against the server's
``/agui`` with that user's bearer token (and a prompt that makes it pause for
approval, so the interrupt tests run). Without either, it starts
``examples/agui-pydantic-ai`` (a pydantic-ai agent behind pydantic-ai's own AG-UI
adapter, its model golden-path's model at the wire, ``golden-path model serve
--script examples/agui-pydantic-ai/model.yaml``, reached over HTTP, started first) as
its own process, in its own process group (through
``golden_path.server.runner.ChildServer``), on a port the OS picks, with a fresh
bearer token; runs the AG-UI conformance suite shipped in the package against it
(``golden-path conformance --protocol ag-ui --url URL``, as a team would); and stops the
whole process group, whatever happens.

    python scripts/agui_conformance.py [--url URL | --reference] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from conformance import conformance_command, run_suite, start_server  # scripts/

from golden_path.client import GoldenPathHTTP
from golden_path.server.agui.mapping import AGUI_PATH
from golden_path.server.runner import ChildServer
from golden_path.testing.identity.users import create_user
from golden_path.tiers import Tier

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "agui-pydantic-ai" / "app.py"
EXAMPLE_MODEL_SCRIPT = EXAMPLE.parent / "model.yaml"
# golden-path model serve --json's line, once it accepts connections.
MODEL_READY = re.compile(r'"anthropic_base_url": "http://(?P<host>[^:"]+):(?P<port>\d+)"')
READY_TIMEOUT_S = 60.0
LOG = Path(tempfile.gettempdir()) / "golden-path-agui-conformance-server.log"
# What makes the example agent fail (see its module doc): its error path is tested too.
EXAMPLE_ERROR_PROMPT = "Please fail."
REFERENCE_STEP_DELAY_MS = 40
# What makes the reference server pause for approval (protocol §12.1): forecasting is
# priced above the enterprise plan's approval threshold.
REFERENCE_INTERRUPT_PROMPT = "Forecast our spend and flag anomalies: gpt-4o at 2M tokens/day."


def start_example_model(env: dict[str, str]) -> ChildServer:
    """The example agent's model: ``golden-path model serve`` on its script file, in its own
    process (group), on a port the OS picks."""
    return ChildServer(
        [
            sys.executable,
            "-m",
            "golden_path.cli",
            "model",
            "serve",
            "--json",
            "--script",
            str(EXAMPLE_MODEL_SCRIPT),
        ],
        name="agui-pydantic-ai-model",
        env=env,
        ready=MODEL_READY,
        cwd=ROOT,
    ).start(READY_TIMEOUT_S)


def start_example(env: dict[str, str]) -> ChildServer:
    """The pydantic-ai example as its own process (group), on a port the OS picks, once
    uvicorn listens and its /healthz answers."""
    server = ChildServer(
        [sys.executable, str(EXAMPLE), "--port", "0"],
        name="agui-pydantic-ai",
        env=env,
        log_path=LOG,
        cwd=ROOT,
    ).start(READY_TIMEOUT_S)
    answer = httpx.get(f"{server.base_url}/healthz", timeout=READY_TIMEOUT_S)
    if answer.status_code != 200:
        server.stop_group()
        raise SystemExit(f"{server.base_url}/healthz answered {answer.status_code}: {answer.text}")
    return server


def enterprise_token(base: str) -> str:
    """A new enterprise user's access token on the reference server at ``base`` (its
    limits let the suite's concurrent runs through)."""

    async def sign_up() -> str:
        async with GoldenPathHTTP(base) as api:
            return (await create_user(api, Tier.ENTERPRISE)).access_token

    return asyncio.run(sign_up())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running AG-UI endpoint")
    parser.add_argument(
        "--reference", action="store_true", help="test the reference server's /agui"
    )
    args, pytest_args = parser.parse_known_args()
    pytest_args = [a for a in pytest_args if a != "--"]
    env = dict(os.environ)
    server: ChildServer | None = None
    model: ChildServer | None = None
    url = args.url
    if args.reference:
        # A step delay, so a run lasts long enough to tell flushed events from buffered ones.
        reference = start_server(secrets.token_urlsafe(48), step_delay_ms=REFERENCE_STEP_DELAY_MS)
        try:
            env["GOLDEN_PATH_AGUI_TOKEN"] = enterprise_token(reference.base_url)
            env["GOLDEN_PATH_AGUI_INTERRUPT_PROMPT"] = REFERENCE_INTERRUPT_PROMPT
            url = reference.base_url + AGUI_PATH
            command = conformance_command("ag-ui", url, pytest_args)
            return subprocess.call(command, env=env, cwd=ROOT)
        finally:
            reference.stop()
    try:
        if url is None:
            token = secrets.token_urlsafe(32)
            env["GOLDEN_PATH_AGUI_TOKEN"] = token
            env["GOLDEN_PATH_AGUI_ERROR_PROMPT"] = EXAMPLE_ERROR_PROMPT
            model = start_example_model(env)
            server = start_example(
                {**env, "AGUI_EXAMPLE_TOKEN": token, "AGUI_EXAMPLE_MODEL_URL": model.base_url}
            )
            url = f"{server.base_url}/agui"
        command = conformance_command("ag-ui", url, pytest_args)
        return run_suite("agui-conformance", command, env, server)
    finally:
        if server is not None:
            server.stop_group()
        if model is not None:
            model.stop_group()


if __name__ == "__main__":
    sys.exit(main())
