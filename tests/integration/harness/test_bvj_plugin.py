"""The BVJ part of the plugin as a project meets it: inner pytest runs driven by ``pytester``.

Every inner test is a plain synchronous test that needs no services. The test tier of an
inner test comes from its folder (``tests/unit/``, ``tests/integration/``), which is what
puts it in or keeps it out of the coverage matrix.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from golden_path.testing.markers import STAGES

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a project using golden-path learns at collection which tests have no "
        "business reason, and gets a report and a gate that say which segment's golden path "
        "is untested",
        revenue_impact="the gate is what stops a release whose enterprise or free path has no "
        "passing test; a gate that passes on an incomplete suite ships regressions to paying "
        "customers",
    ),
]

XDIST = ("-n", "2", "-p", "xdist")
SEGMENTS = ("free", "early", "mid", "enterprise")

DECLARED_AND_UNDECLARED = """
import pytest


@pytest.mark.bvj(segment="free", goal="conversion", value_impact="v", revenue_impact="r")
def test_declared():
    pass


def test_undeclared():
    pass
"""

# Every segment × stage cell of the coverage matrix filled by one passing integration test.
FULL_MATRIX = """
import pytest

pytestmark = pytest.mark.bvj(
    segment="all", goal="stability", value_impact="every tier's path", revenue_impact="all plans"
)

STAGES = ("auth", "websocket", "agent", "events", "persistence")


@pytest.mark.parametrize("tier", ["free", "early", "mid", "enterprise"])
@pytest.mark.parametrize("stage", [pytest.param(s, marks=pytest.mark.stage(s)) for s in STAGES])
def test_cell(tier, stage):
    assert tier and stage
"""

# A mixed suite: passes, a failure and a skip in two test tiers, and a test without a BVJ.
MIXED_UNIT = """
import pytest

pytestmark = pytest.mark.bvj(
    segment="mid", goal="expansion", value_impact="v", revenue_impact="r"
)


def test_unit_passes():
    pass


def test_unit_fails():
    assert 1 + 1 == 3


def test_unit_skips():
    pytest.skip("not today")
"""
MIXED_UNDECLARED = """
def test_without_bvj():
    pass
"""
MIXED_INTEGRATION = """
import pytest

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(segment="free", goal="conversion", value_impact="v", revenue_impact="r"),
]


def test_integration_passes():
    pass


def test_integration_passes_too():
    pass


def test_integration_fails():
    raise AssertionError("broken")


@pytest.mark.skip(reason="not today")
def test_integration_skips():
    pass
"""


@pytest.fixture(autouse=True)
def inner_ini(pytester: pytest.Pytester) -> None:
    """Each inner project has its own pytest.ini (its tests are sync: no asyncio_mode)."""
    (pytester.path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "gp_segments = free early mid enterprise\n"
    )


def _write(pytester: pytest.Pytester, relative: str, source: str) -> Path:
    path = pytester.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner pytest run: in this process (fast) unless it needs xdist's workers."""
    if "-n" in args:
        return pytester.runpytest_subprocess("-p", "no:randomly", *args)
    return pytester.runpytest_inprocess("-p", "no:randomly", *args)


def _mixed_suite(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/unit/test_units.py", MIXED_UNIT)
    _write(pytester, "tests/unit/test_undeclared.py", MIXED_UNDECLARED)
    _write(pytester, "tests/integration/test_flow.py", MIXED_INTEGRATION)


def _report(pytester: pytest.Pytester, folder: str = "out") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / folder / "report.json").read_text())
    return data


def _without_durations(report: dict[str, Any]) -> dict[str, Any]:
    rows = [
        {k: v for k, v in row.items() if k != "duration_s"}
        for row in report["by_tier_segment_stage"]
    ]
    # A traceback under xdist starts with the worker's name: compare the failure's message.
    tests = [
        {
            **{k: v for k, v in test.items() if k != "duration_s"},
            "failures": [{k: v for k, v in f.items() if k != "longrepr"} for f in test["failures"]],
        }
        for test in report["tests"]
    ]
    return {**report, "by_tier_segment_stage": rows, "tests": tests}


def _text(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


# -- --gp-bvj ------------------------------------------------------------------------------


def test_strict_makes_a_test_without_bvj_a_usage_error_naming_it(
    pytester: pytest.Pytester,
) -> None:
    _write(pytester, "tests/unit/test_pure.py", DECLARED_AND_UNDECLARED)
    result = _run(pytester, "--gp-bvj=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*1 tests without a valid Business Value Justification (--gp-bvj=strict):",
            "*tests/unit/test_pure.py::test_undeclared: no BVJ: add @pytest.mark.bvj(*",
        ]
    )
    assert "test_declared" not in result.stderr.str()
    result.stdout.no_fnmatch_line("*passed*")


@pytest.mark.parametrize(
    ("field", "typo", "meant"),
    [("segment", "enterprize", "enterprise"), ("goal", "retension", "retention")],
)
def test_strict_names_a_misspelt_value_and_the_suggestion(
    pytester: pytest.Pytester, field: str, typo: str, meant: str
) -> None:
    values = {"segment": "enterprise", "goal": "retention", field: typo}
    _write(
        pytester,
        "tests/unit/test_typo.py",
        f"""
        import pytest

        @pytest.mark.bvj(segment={values["segment"]!r}, goal={values["goal"]!r},
                         value_impact="v", revenue_impact="r")
        def test_misspelt():
            pass
        """,
    )
    result = _run(pytester, "--gp-bvj=strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*tests/unit/test_typo.py::test_misspelt: {field} '{typo}' is not one of *"]
    )
    result.stderr.fnmatch_lines([f"*(did you mean '{meant}'?)"])


@pytest.mark.parametrize("option", [("--gp-bvj=warn",), ("-o", "gp_bvj=warn")], ids=["flag", "ini"])
def test_warn_runs_the_tests_and_warns_naming_the_test(
    pytester: pytest.Pytester, option: tuple[str, ...]
) -> None:
    _write(pytester, "tests/unit/test_pure.py", DECLARED_AND_UNDECLARED)
    result = _run(pytester, *option)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        ["*PytestWarning: BVJ: tests/unit/test_pure.py::test_undeclared: no BVJ: add *"]
    )
    result.stdout.no_fnmatch_line("*BVJ: tests/unit/test_pure.py::test_declared*")


@pytest.mark.parametrize("option", [("--gp-bvj=off",), ()], ids=["off", "unset"])
def test_off_checks_nothing(pytester: pytest.Pytester, option: tuple[str, ...]) -> None:
    """A project that never set gp_bvj gets no BVJ check at all (installing is not asking)."""
    _write(pytester, "tests/unit/test_pure.py", DECLARED_AND_UNDECLARED)
    result = _run(pytester, *option)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=0)
    assert "BVJ" not in _text(result)


def test_strict_accepts_the_docstring_form_on_the_test_its_class_or_its_module(
    pytester: pytest.Pytester,
) -> None:
    # The example of docs/harness.md, word for word.
    _write(
        pytester,
        "tests/unit/test_docstring_bvj.py",
        '''
        from golden_path.tiers import Tier


        def test_the_free_plan_allows_two_sockets():
            """The free plan's socket limit is what the upgrade prompt is measured against.

            Business Value Justification (BVJ):
            - Segment: Free
            - Business Goal: Conversion
            - Value Impact: Free users meet the limit that shows them the paid plans
            - Revenue Impact: The limit is part of the free-to-paid conversion path
            """
            assert Tier.FREE.limits.open_websockets == 2
        ''',
    )
    _write(
        pytester,
        "tests/unit/test_class_doc.py",
        '''
        class TestRetention:
            """Business Value Justification:
            * Segment: Enterprise
            * Goal: Retention
            * Value Impact: enterprise users keep their history
            * Revenue Impact: losing history loses the renewal
            """

            def test_history(self):
                pass
        ''',
    )
    _write(
        pytester,
        "tests/unit/test_module_doc.py",
        '''
        """Early-tier limits.

        Business Value Justification (BVJ):
        - Segment: Early
        - Business Goal: Expansion
        - Value Impact: early users see what the next plan gives
        - Revenue Impact: the path from early to mid
        """


        def test_one():
            pass


        def test_two():
            pass
        ''',
    )
    result = _run(pytester, "--gp-bvj=strict", "--gp-report=out")
    assert result.ret == pytest.ExitCode.OK, _text(result)
    result.assert_outcomes(passed=4)
    segments = {
        row["segment"]: row["collected"] for row in _report(pytester)["by_tier_segment_stage"]
    }
    assert segments == {"free": 1, "enterprise": 1, "early": 2}
    assert _report(pytester)["without_bvj"] == []


def test_a_module_pytestmark_covers_every_test_in_it_and_the_closest_marker_wins(
    pytester: pytest.Pytester,
) -> None:
    _write(
        pytester,
        "tests/unit/test_module_marker.py",
        """
        import pytest

        pytestmark = pytest.mark.bvj(
            segment="mid", goal="retention", value_impact="v", revenue_impact="r"
        )


        def test_function():
            pass


        @pytest.mark.parametrize("n", [1, 2])
        def test_parametrised(n):
            assert n


        class TestGroup:
            def test_method(self):
                pass


        @pytest.mark.bvj(segment="free", goal="conversion", value_impact="v", revenue_impact="r")
        def test_own_marker():
            pass
        """,
    )
    result = _run(pytester, "--gp-bvj=strict", "--gp-report=out")
    assert result.ret == pytest.ExitCode.OK, _text(result)
    result.assert_outcomes(passed=5)
    segments = {
        row["segment"]: row["collected"] for row in _report(pytester)["by_tier_segment_stage"]
    }
    assert segments == {"mid": 4, "free": 1}


def test_strict_only_judges_the_tests_selected(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/unit/test_pure.py", DECLARED_AND_UNDECLARED)
    result = _run(pytester, "--gp-bvj=strict", "-k", "not undeclared")
    assert result.ret == pytest.ExitCode.OK, _text(result)
    result.assert_outcomes(passed=1, deselected=1)


# -- --gp-report ---------------------------------------------------------------------------


def test_report_files_match_the_run(pytester: pytest.Pytester) -> None:
    _mixed_suite(pytester)
    result = _run(pytester, "--gp-bvj=warn", "--gp-report=out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    report = _report(pytester)

    assert report["totals"] == {
        "collected": 8,
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
        "skipped": outcomes["skipped"],
    }
    assert (outcomes["passed"], outcomes["failed"], outcomes["skipped"]) == (4, 2, 2)
    assert report["by_test_tier"] == {
        "unit": {"passed": 2, "failed": 1, "skipped": 1},
        "integration": {"passed": 2, "failed": 1, "skipped": 1},
        "e2e": {},
    }
    assert report["failed"] == [
        "tests/integration/test_flow.py::test_integration_fails",
        "tests/unit/test_units.py::test_unit_fails",
    ]
    assert len(report["without_bvj"]) == 1
    assert report["without_bvj"][0].startswith(
        "tests/unit/test_undeclared.py::test_without_bvj: no BVJ"
    )
    assert report["matrix"]["free"]["auth"] == 2
    assert sum(sum(row.values()) for row in report["matrix"].values()) == 2
    assert len(report["empty_cells"]) == 19
    auth = next(r for r in report["by_tier_segment_stage"] if r["stage"] == "auth")
    assert (auth["test_tier"], auth["segment"], auth["collected"]) == ("integration", "free", 4)

    markdown = (pytester.path / "out" / "report.md").read_text()
    assert "8 tests: 4 passed, 2 failed, 2 skipped." in markdown
    assert "| unit | 2 | 1 | 1 |" in markdown
    assert "| free | 2 | 0 | 0 | 0 | 0 |" in markdown
    assert "- tests/unit/test_undeclared.py::test_without_bvj: no BVJ" in markdown


def test_report_is_complete_under_xdist(pytester: pytest.Pytester) -> None:
    _mixed_suite(pytester)
    serial = _run(pytester, "--gp-report=serial")
    parallel = _run(pytester, "--gp-report=parallel", *XDIST)
    assert serial.ret == parallel.ret == pytest.ExitCode.TESTS_FAILED
    assert parallel.parseoutcomes()["passed"] == serial.parseoutcomes()["passed"] == 4
    serial_report = _report(pytester, "serial")
    parallel_report = _report(pytester, "parallel")
    assert parallel_report["totals"] == serial_report["totals"]
    assert parallel_report["totals"]["collected"] == 8
    assert _without_durations(parallel_report) == _without_durations(serial_report)


def test_terminal_summary_shows_the_matrix(pytester: pytest.Pytester) -> None:
    _mixed_suite(pytester)
    result = _run(pytester, "--gp-report=out")
    result.stdout.fnmatch_lines(
        [
            "*= golden-path =*",
            "8 tests; unit 4 (2 passed), integration 4 (2 passed), e2e 0 (0 passed)",
            "coverage matrix (passing integration + e2e tests, segment × stage):",
            "* auth * websocket * agent * events * persistence",
            "  free * 2 * 0 * 0 * 0 * 0",
            "  early * 0 * 0 * 0 * 0 * 0",
            "  mid * 0 * 0 * 0 * 0 * 0",
            "  enterprise * 0 * 0 * 0 * 0 * 0",
            "empty cells: free × websocket, *",
            "1 tests without a valid BVJ",
            "report: out*report.md",
        ]
    )


def test_no_summary_section_without_report_or_gate(pytester: pytest.Pytester) -> None:
    _mixed_suite(pytester)
    result = _run(pytester)
    result.stdout.no_fnmatch_line("*= golden-path =*")
    result.stdout.no_fnmatch_line("coverage matrix*")
    assert not (pytester.path / "out").exists()


# -- --gp-gate -----------------------------------------------------------------------------


def test_gate_fails_the_session_when_a_test_fails(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/integration/test_matrix.py", FULL_MATRIX)
    _write(
        pytester,
        "tests/unit/test_broken.py",
        """
        import pytest

        @pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r")
        def test_broken():
            assert False
        """,
    )
    result = _run(pytester, "--gp-gate")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=20, failed=1)
    result.stdout.fnmatch_lines(
        ["gate FAILED (1 problems):", "  failed: tests/unit/test_broken.py::test_broken"]
    )


def test_gate_lists_every_empty_cell_of_a_suite_of_unit_tests(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        "tests/unit/test_only_units.py",
        """
        import pytest

        pytestmark = [
            pytest.mark.stage("auth"),
            pytest.mark.bvj(
                segment="free", goal="conversion", value_impact="v", revenue_impact="r"
            ),
        ]

        def test_one():
            pass

        def test_two():
            pass
        """,
    )
    result = _run(pytester, "--gp-gate")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # every test passed; the gate did not
    result.stdout.fnmatch_lines(["gate FAILED (20 problems):"])
    listed = [
        line.strip()
        for line in result.outlines
        if line.startswith("  no passing integration/e2e test for ")
    ]
    assert listed == [
        f"no passing integration/e2e test for {segment} × {stage}"
        for segment in SEGMENTS
        for stage in STAGES
    ]


def test_gate_fails_when_a_test_lacks_a_bvj(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/integration/test_matrix.py", FULL_MATRIX)
    _write(pytester, "tests/unit/test_undeclared.py", MIXED_UNDECLARED)
    result = _run(pytester, "--gp-gate", "--gp-bvj=warn")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=21, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "gate FAILED (1 problems):",
            "  no BVJ: tests/unit/test_undeclared.py::test_without_bvj: no BVJ: *",
        ]
    )


@pytest.mark.parametrize("parallel", [(), XDIST], ids=["serial", "xdist"])
def test_gate_passes_when_every_cell_is_filled(
    pytester: pytest.Pytester, parallel: tuple[str, ...]
) -> None:
    _write(pytester, "tests/integration/test_matrix.py", FULL_MATRIX)
    result = _run(pytester, "--gp-gate", "--gp-bvj=strict", "--gp-report=out", *parallel)
    assert result.ret == pytest.ExitCode.OK, _text(result)
    result.assert_outcomes(passed=20)
    result.stdout.fnmatch_lines(["gate passed"])
    result.stdout.no_fnmatch_line("empty cells:*")
    report = _report(pytester)
    assert report["totals"] == {"collected": 20, "passed": 20}
    assert report["matrix"] == {segment: dict.fromkeys(STAGES, 1) for segment in SEGMENTS}
    assert report["empty_cells"] == []


def test_matrix_counts_tier_markers_of_all_segment_tests_in_integration_only(
    pytester: pytest.Pytester,
) -> None:
    all_segments = (
        'pytest.mark.bvj(segment="all", goal="stability", value_impact="v", revenue_impact="r")'
    )
    source = f"""
        import pytest

        pytestmark = [pytest.mark.stage("events"), {all_segments}]

        @pytest.mark.tier("mid")
        @pytest.mark.tier("enterprise")
        def test_two_tiers():
            pass

        @pytest.mark.tier("free")
        def test_fails():
            assert False

        def test_no_tier():
            pass
        """
    _write(pytester, "tests/integration/test_events.py", source)
    _write(pytester, "tests/unit/test_events_unit.py", source)
    result = _run(pytester, "--gp-report=out")
    result.assert_outcomes(passed=4, failed=2)
    matrix = _report(pytester)["matrix"]
    assert {segment: row["events"] for segment, row in matrix.items()} == {
        "free": 0,
        "early": 0,
        "mid": 1,
        "enterprise": 1,
    }
    assert sum(sum(row.values()) for row in matrix.values()) == 2
