"""``golden-path conformance``: the shipped suites, run from a team's folder, by URL.

The command is run as a team runs it: in a project folder that is not this repository
(pytester's), whose pytest.ini names its own ``gp_user_factory``, against a reference
server the outer run started, reached only by its URL. Only the smoke module of the v1
suite runs (``-k``), so the test stays fast; the whole suites run in make test's
conformance passes through the same command.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from golden_path.conformance.demand import V1_MESSAGES_PER_MINUTE, V1_RUNS_PER_MINUTE
from golden_path.server.agui.mapping import AGUI_PATH
from golden_path.services.processes import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team proves its own server speaks protocol v1 or AG-UI with one "
        "command from its own project, with its own way of making users, from a wheel",
        revenue_impact="a conformance suite that runs only from a clone of golden-path is "
        "one no team runs, and a server that drifts from the protocol breaks every client",
    ),
]

TEAM_USERS = """
from pathlib import Path

from golden_path.client import GoldenPathHTTP
from golden_path.testing.identity.users import create_user


async def make_user(base_url, segment):
    with Path(__file__).with_name("made.txt").open("a") as made:
        made.write(segment + "\\n")
    async with GoldenPathHTTP(base_url) as api:
        return await create_user(api, segment)
"""
# The team's own settings, some of which the conformance run must not take: its addopts
# (a flag only its own plugin knows) and its segments (the shipped suite's are v1's).
TEAM_INI = """
[pytest]
addopts = --team-only-flag
gp_segments = starter business scale
gp_user_factory = team_users:make_user
"""


def conformance(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "golden_path.cli", "conformance", *args, timeout=120)


@pytest.fixture
def team(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".ini", pytest=textwrap.dedent(TEAM_INI))
    pytester.makepyfile(team_users=textwrap.dedent(TEAM_USERS))
    return pytester


def test_the_v1_suite_runs_from_a_team_folder_against_a_server_by_url_with_its_user_factory(
    team: pytest.Pytester, gp_base_url: str
) -> None:
    assert not (Path(team.path) / "golden_path").exists()  # not this repository
    result = conformance(
        team, "--protocol", "v1", "--url", gp_base_url, "--", "-k", "smoke", "-p", "no:randomly"
    )
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            f"golden-path conformance: v1 against {gp_base_url}",
            f"golden-path conformance: the v1 suite needs up to {V1_RUNS_PER_MINUTE} runs "
            f"a minute on one user *and {V1_MESSAGES_PER_MINUTE} messages a minute on one user*",
            "*4 passed*",
        ]
    )
    # The project's factory made every user, with the suite's (protocol v1's) plan names.
    made = (Path(team.path) / "made.txt").read_text().split()
    assert sorted(made) == ["early", "enterprise", "free", "mid"]


async def test_the_agui_suite_runs_from_a_team_folder_against_an_agui_endpoint_by_url(
    team: pytest.Pytester, gp_base_url: str, gp_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference server's own ``POST /agui`` as the endpoint, a user's token as the
    suite's; the harness tests of the suite (inner pytest runs) need nothing of this repo."""
    user = await gp_user("enterprise")
    monkeypatch.setenv("GOLDEN_PATH_AGUI_TOKEN", user.access_token)
    url = gp_base_url + AGUI_PATH
    result = await asyncio.to_thread(
        conformance, team, "--protocol", "ag-ui", "--url", url, "-k", "harness or plain"
    )  # pytest's options without --: passed on as well
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            f"golden-path conformance: ag-ui against {url}",
            "golden-path conformance: the AG-UI suite starts about * runs*",
            "*4 passed*",
        ]
    )


def test_a_url_where_nothing_answers_is_refused_up_front_with_one_message(
    team: pytest.Pytester,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = conformance(team, "--protocol", "v1", "--url", url)
    assert result.ret == 2
    result.stderr.fnmatch_lines([f"golden-path conformance: nothing answers at {url} (*"])
    assert "passed" not in result.stdout.str()
    assert "failed" not in result.stdout.str()
    assert not (Path(team.path) / "made.txt").exists()


def test_the_command_without_a_url_says_it_is_required_and_runs_nothing(
    team: pytest.Pytester,
) -> None:
    result = conformance(team, "--protocol", "v1")
    assert result.ret == 2
    assert "--url" in result.stderr.str()
    assert not (Path(team.path) / "made.txt").exists()


INNER_REFUSED = """
import pytest

from golden_path.testing.agui.client import AGUIHTTPError


@pytest.mark.parametrize("n", range(5))
def test_each_run_is_refused(n):
    raise AGUIHTTPError(429, "too many runs this minute")
"""


def test_a_run_the_servers_limits_refuse_stops_at_the_first_refusal_with_one_message(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_refused=INNER_REFUSED)
    result = pytester.runpytest_subprocess(
        "-p", "golden_path.conformance.throttle", "-p", "no:randomly", "-q"
    )
    result.assert_outcomes(failed=1)  # the other four never ran
    result.stdout.fnmatch_lines(
        [
            "golden-path conformance: the server's limits refused this run (*HTTP 429*",
            "*Interrupted: golden-path conformance: the server's limits refused this run*",
        ]
    )
