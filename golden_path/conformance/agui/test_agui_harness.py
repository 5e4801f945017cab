"""The harness side of AG-UI, proven on a real AG-UI server: what --gp-protocol runs and skips,
and the transcript a failing AG-UI test's report shows."""

from __future__ import annotations

import os

import pytest

from golden_path.testing.agui.client import AGUIClient, AGUITimeout

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact=(
            "A team pointing the harness at its AG-UI agent must see its AG-UI tests run, the "
            "protocol v1 tests skipped with a reason, and, when one fails, the conversation "
            "that failed rather than a bare assertion."
        ),
        revenue_impact="Indirect: a harness that explains its AG-UI failures gets adopted.",
    ),
]

# As docs/harness.md has a project set pytest-asyncio up.
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
INNER = """
import pytest

def test_agui_run(gp_agui):
    pass

async def test_agui_fails_after_a_run(gp_agui):
    run = await gp_agui.run("Hello!")
    assert run.terminal["type"] == "RUN_ERROR", "expected to fail"

def test_v1(gp_client):
    pass
"""


def test_with_ag_ui_the_agui_tests_run_and_v1_tests_skip_with_a_reason(
    pytester: pytest.Pytester, gp_agui: AGUIClient
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER)
    token = os.environ.get("GOLDEN_PATH_AGUI_TOKEN")
    result = pytester.runpytest(
        "-p", "no:randomly", "-rs", f"--gp-url={gp_agui.url}", "--gp-protocol=ag-ui"
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*speaks golden-path protocol v1; the server under test speaks AG-UI*"]
    )
    # The failing test's report carries the AG-UI client's transcript.
    result.stdout.fnmatch_lines(
        [
            f"*golden-path AG-UI client 0 transcript ({gp_agui.url})*",
            '*-> {"POST"*',
            '*<- {"type": "RUN_STARTED"*',
            '*<- {"type": "RUN_FINISHED"*',
        ]
    )
    assert token is None or token not in result.stdout.str()


def test_with_v1_the_agui_tests_skip_saying_how_to_run_them(
    pytester: pytest.Pytester, gp_agui: AGUIClient
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER.replace("def test_v1(gp_client)", "def test_v1()"))
    result = pytester.runpytest("-p", "no:randomly", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(
        ["*needs an AG-UI endpoint: set gp_agui_path*or run with --gp-protocol=ag-ui --gp-url*"]
    )


async def test_a_run_that_does_not_end_in_time_raises_naming_what_arrived(
    gp_agui: AGUIClient,
) -> None:
    with pytest.raises(AGUITimeout, match=r"did not end within 0\.0 s .*received 0 events"):
        await gp_agui.run("Tell me a long story, please.", timeout=0.0)
    assert "->" in gp_agui.format_transcript()  # the request is on record
    run = await gp_agui.run("Hello!")  # the client is still usable
    run.assert_contract()
