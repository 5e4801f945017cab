"""One golden-path run of each protocol, as a simulated user runs it, against the reference
server: completed, checked, and resumed after a dropped connection with nothing lost.

These are the blocking clients Locust's users run under gevent, run here without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from golden_path.load.agui_run import Streamed, run_agui
from golden_path.load.auth import sign_in
from golden_path.load.v1_run import run_v1
from golden_path.testing.server.endpoint import ServerEndpoint

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's load test reads each run whole, even after a dropped "
        "connection, so what it reports as broken is the server, not the load generator",
        revenue_impact="a load generator that loses events on resume reports violations that "
        "are not there, and a team stops trusting the gate",
    ),
]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False
        yield http


def _token(http: requests.Session, base: str) -> str:
    def post(path: str, body: dict[str, Any], token: str | None) -> requests.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return http.post(base + path, json=body, headers=headers, timeout=30)

    return sign_in(post, base, "enterprise")


@pytest.mark.parametrize("drop_after", [None, 2], ids=["whole", "dropped-and-resumed"])
def test_a_v1_run_completes_with_no_violation(
    reference: ServerEndpoint, http: requests.Session, drop_after: int | None
) -> None:
    token = _token(http, reference.base_url)
    outcome = run_v1(reference.ws_url, token, "How much did we spend?", drop_after=drop_after)
    assert outcome.error is None
    assert outcome.completed
    assert outcome.violations == []
    assert outcome.resumed is (drop_after is not None)
    types = [e["type"] for e in outcome.arrivals.events]
    assert types[0] == "agent_started"
    assert types[-1] == "agent_completed"
    seqs = [e["seq"] for e in outcome.arrivals.events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert outcome.arrivals.first_event_ms is not None
    assert outcome.arrivals.largest_gap_ms is not None


@pytest.mark.parametrize("drop_after", [None, 2], ids=["whole", "dropped-and-posted-again"])
def test_an_agui_run_completes_with_no_violation(
    reference: ServerEndpoint, http: requests.Session, drop_after: int | None
) -> None:
    token = _token(http, reference.base_url)

    @contextmanager
    def post(body: dict[str, Any]) -> Iterator[Streamed]:
        response = http.post(
            reference.base_url + "/agui",
            json=body,
            headers={"authorization": f"Bearer {token}"},
            stream=True,
            timeout=30,
        )
        with response:
            yield response

    outcome = run_agui(post, "How much did we spend?", drop_after=drop_after)
    assert outcome.error is None
    assert outcome.completed
    assert [v for v in outcome.violations if v.severity == "error"] == []
    assert outcome.resumed is (drop_after is not None)
    types = [e["type"] for e in outcome.arrivals.events]
    assert types.count("RUN_STARTED") == (2 if drop_after else 1)
    assert types[-1] == "RUN_FINISHED"


def test_a_run_of_the_broken_server_is_reported_by_its_rule(broken: Any) -> None:
    outcome = run_v1(broken.ws_url, "usr_" + "0" * 32, "hello")
    assert outcome.completed
    assert {v.rule for v in outcome.violations} == {"seq_not_increasing"}
