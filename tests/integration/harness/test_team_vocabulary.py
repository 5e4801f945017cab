"""A team's own plans and stages drive the markers, the BVJ, the coverage matrix and the gate.

The project sells ``free pro team`` and its golden path is ``search book pay``:
a suite that covers every cell passes ``--gp-gate``; golden-path's own tier
names are refused as markers and BVJ segments; one uncovered cell fails the gate
by its name. Before gp_segments, ``tier("pro")`` aborted the run and the gate
could never pass for such a product.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team gates its releases on its own plans and stages, not on "
        "golden-path's reference product",
        revenue_impact="a gate that can never pass for a team's product is switched off, and "
        "then it protects no revenue",
    ),
]

INI = """[pytest]
asyncio_default_fixture_loop_scope = function
gp_segments = free pro team
gp_stages = search book pay
gp_bvj = strict
"""
SUITE = """
import pytest

PLANS = ("free", "pro", "team")
STAGES = ("search", "book", "pay")


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("stage", STAGES)
def test_cell(plan, stage):
    pass
"""
CONFTEST = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        params = item.callspec.params
        if {SKIP}:
            continue
        item.add_marker(pytest.mark.stage(params["stage"]))
        item.add_marker(
            pytest.mark.bvj(segment=params["plan"], goal="conversion", value_impact="v",
                            revenue_impact="r")
        )
"""


def project(pytester: pytest.Pytester, skip: str = "False") -> None:
    pytester.makeini(INI)
    (pytester.path / "tests" / "integration").mkdir(parents=True)
    (pytester.path / "tests" / "integration" / "test_cells.py").write_text(SUITE)
    (pytester.path / "conftest.py").write_text(CONFTEST.replace("{SKIP}", skip))


def test_a_suite_covering_the_teams_plans_and_stages_passes_the_gate(
    pytester: pytest.Pytester,
) -> None:
    project(pytester)
    result = pytester.runpytest("--gp-report=out", "--gp-gate", "-p", "no:randomly")
    result.assert_outcomes(passed=9)
    assert result.ret == pytest.ExitCode.OK
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["segments"] == ["free", "pro", "team"]
    assert report["stages"] == ["search", "book", "pay"]
    assert report["matrix"] == {p: {"search": 1, "book": 1, "pay": 1} for p in report["segments"]}
    assert report["empty_cells"] == []


def test_an_uncovered_cell_of_the_teams_matrix_fails_the_gate_by_name(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, skip='params["plan"] == "team" and params["stage"] == "pay"')
    result = pytester.runpytest(
        "--gp-report=out", "--gp-gate", "--gp-bvj=warn", "-p", "no:randomly"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no passing integration/e2e test for team × pay*"])


def test_golden_paths_own_tier_names_are_refused_in_a_team_project(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_old="""
        import pytest

        @pytest.mark.tier("enterprise")
        @pytest.mark.stage("search")
        @pytest.mark.bvj(segment="pro", goal="conversion", value_impact="v", revenue_impact="r")
        def test_enterprise():
            pass

        @pytest.mark.stage("pay")
        @pytest.mark.bvj(segment="mid", goal="conversion", value_impact="v", revenue_impact="r")
        def test_mid():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    assert "@pytest.mark.tier('enterprise'): expected one of free, pro, team (gp_segments)" in text
