"""``golden-path load --mix``: the golden path mixed with a user that drops its connection
mid-run and never comes back (the server must finish and persist the run: read back over
``GET /runs/{id}``), and a slow reader (the server delivers everything or closes as
docs/protocol.md §4.7 allows), against the reference server, on both protocols."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from golden_path.testing.server.endpoint import ServerEndpoint
from tests.integration.load.test_load_command import load, summary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("persistence"),
    pytest.mark.timeout(120),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's load test includes the users who vanish mid-answer and the "
        "ones on slow networks, and proves the server finishes and keeps their runs",
        revenue_impact="a server that loses a run when its customer's network drops loses "
        "what the customer paid for",
    ),
]


@pytest.mark.parametrize("protocol", ["v1", "ag-ui"])
def test_dropped_users_runs_are_finished_and_kept_and_slow_readers_get_everything(
    reference: ServerEndpoint, tmp_path: Path, protocol: str
) -> None:
    done = load(
        reference.base_url, tmp_path, "--protocol", protocol,
        "--mix", "golden=1,drop=2,slow=1", "--slow-read-ms", "20",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = summary(tmp_path)
    assert result["violations"] == {}
    scenarios = result["scenarios"]
    assert scenarios["drop"]["runs"] > 0, scenarios
    assert scenarios["slow"]["runs"] > 0, scenarios
    assert scenarios["drop"]["failures"] == scenarios["slow"]["failures"] == 0, scenarios
    rows = json.loads((tmp_path / "locust.json").read_text())
    history = [r for r in rows if r["name"] == "GET /runs/{run_id}"]
    assert history, "no dropped run's history was read"
    assert history[0]["num_requests"] >= scenarios["drop"]["runs"]
    assert "drop runs" in done.stdout
