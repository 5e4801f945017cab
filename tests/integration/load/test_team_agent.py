"""A team's own AI server under ``golden-path load``, its model golden-path's model at the
wire (``golden-path model serve``): no tokens paid. ``examples/agui-pydantic-ai`` (a
pydantic-ai agent behind pydantic-ai's own AG-UI adapter, nothing of golden-path in it) is
started against ``golden-path model serve --script`` its model.yaml, then loaded over
AG-UI with its login hook, as docs/load.md says a team does."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from golden_path.server.runner import ChildServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("agent"),
    pytest.mark.timeout(120),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team loads its own agent server, its tool loop and streaming for "
        "real, with its model scripted at the wire instead of a paid provider",
        revenue_impact="a load test that bills model tokens per run is run once, not in CI",
    ),
]

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "agui-pydantic-ai"
GOLDEN_PATH = str(Path(sys.executable).with_name("golden-path"))
MODEL_READY = re.compile(r'"anthropic_base_url": "http://(?P<host>[^:"]+):(?P<port>\d+)"')
# The example's script answers a question about the weather with the five stages:
# reasoning, the get_weather tool called, its result, then the answer (model.yaml).
WEATHER = "What is the weather in Paris?"


@pytest.fixture
def team_agent(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The example agent and its model, each its own process group, stopped whatever
    happens; (its URL, its bearer token)."""
    token = secrets.token_urlsafe(32)
    env = {**os.environ, "AGUI_EXAMPLE_TOKEN": token}
    model = ChildServer(
        [GOLDEN_PATH, "model", "serve", "--json", "--script", str(EXAMPLE / "model.yaml")],
        name="load-model",
        env=env,
        ready=MODEL_READY,
        log_path=tmp_path / "model.log",
    )
    agent = ChildServer(
        [sys.executable, str(EXAMPLE / "app.py"), "--port", "0"],
        name="load-agui-pydantic-ai",
        env={**env, "AGUI_EXAMPLE_MODEL_URL": ""},
        log_path=tmp_path / "agent.log",
    )
    try:
        model.start(60)
        agent.env["AGUI_EXAMPLE_MODEL_URL"] = model.base_url
        agent.start(60)
        assert httpx.get(f"{agent.base_url}/healthz", timeout=30).status_code == 200
        yield agent.base_url, token
    finally:
        agent.stop_group()
        model.stop_group()


def test_a_teams_agent_on_the_model_at_the_wire_passes_the_load_gate(
    team_agent: tuple[str, str], tmp_path: Path
) -> None:
    url, token = team_agent
    command = [
        GOLDEN_PATH, "load", "--url", url, "--protocol", "ag-ui", "--users", "2",
        "--spawn-rate", "2", "--run-time", "3s", "--workers", "1", "--resume-share", "0",
        "--login-hook", "tests.integration.load.agui_login:token", "--message", WEATHER,
        "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "PYTHONPATH": str(ROOT), "AGUI_EXAMPLE_TOKEN": token},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert result["completed"] > 0
    assert result["completed"] == result["runs"]
    assert result["violations"] == {}
