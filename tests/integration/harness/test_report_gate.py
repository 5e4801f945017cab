"""The gate CI teams want: flaky tests named, quarantine with an owner, value at risk, history.

Inner pytest runs (``pytester``, in process) of a small suite that fills every coverage
cell, plus the test each rule is about: one made flaky by a file counter, a quarantined
failing test, an expired and a stale quarantine entry, a failing paid segment, and three
runs of history with a test that flips. Shards are merged with the real ``golden-path
report merge`` command in its own process.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest

from tests.integration.harness.report_projects import (
    CELLS,
    INI,
    _json,
    _run,
    _write,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a release gate that names flaky tests instead of hiding them behind "
        "retries, lets a known-broken test wait for its owner until a date, and says what a "
        "failure costs and whether the suite is getting better",
        revenue_impact="retries that hide flakiness ship intermittent failures to paying "
        "customers; a gate blocked forever by one broken test gets switched off",
    ),
]

# Fails on its first attempt, passes on the next: a file next to it counts the attempts.
FLAKY = """
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r"),
]


def test_flaky():
    counter = Path(__file__).with_name("attempts.txt")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    print(f"attempt {attempt}")
    assert attempt > 1, f"attempt {attempt} fails on purpose"
"""
BROKEN = """
import pytest

pytestmark = [
    pytest.mark.stage("{stage}"),
    pytest.mark.bvj(segment="{segment}", goal="retention", value_impact="v", revenue_impact="r"),
]


def test_broken():
    assert False, "broken on purpose"


def test_fine():
    assert True
"""


def _suite(pytester: pytest.Pytester, ini_extra: str = "") -> None:
    pytester.makeini(INI + ini_extra)
    _write(pytester, "tests/integration/test_cells.py", CELLS)


def _quarantine(pytester: pytest.Pytester, test: str, expires: str = "2999-12-31") -> None:
    (pytester.path / "quarantine.toml").write_text(
        textwrap.dedent(
            f"""\
            # known-broken tests, each with an owner and an end
            [[quarantine]]
            test = "{test}"
            owner = "alice@example.com"
            reason = "the provider times out"
            link = "https://tracker.example.com/GP-1"
            expires = {expires}
            """
        )
    )


# -- 1. flaky, not green ----------------------------------------------------------------------


def test_a_test_that_failed_then_passed_is_reported_flaky_and_in_junit(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester)
    _write(pytester, "tests/integration/test_flaky.py", FLAKY)
    result = _run(pytester, "--reruns=2", "--gp-report=out", "--gp-gate", "--junitxml=junit.xml")
    assert result.parseoutcomes() == dict(passed=21, rerun=1)
    assert result.ret == pytest.ExitCode.OK  # flaky passes the gate by default
    result.stdout.fnmatch_lines(["1 flaky (failed, then passed on a rerun):", "*test_flaky*"])

    data = _json(pytester, "out")
    nodeid = "tests/integration/test_flaky.py::test_flaky"
    assert data["flaky"] == [
        {
            "nodeid": nodeid,
            "attempts": 2,
            "failures": ["AssertionError: attempt 1 fails on purpose\nassert 1 > 1"],
        }
    ]
    (test,) = [t for t in data["tests"] if t["nodeid"] == nodeid]
    assert (test["outcome"], test["attempts"], test["failures"]) == ("passed", 2, [])
    assert "attempt 1 fails on purpose" in test["reruns"][0]["longrepr"]

    # One <testcase> for the test, its failed attempt in a <flakyFailure>.
    root = ET.parse(pytester.path / "junit.xml").getroot()  # noqa: S314 - our own file
    cases = [c for c in root.iter("testcase") if c.get("name") == "test_flaky"]
    assert len(cases) == 1
    (flaky,) = cases[0].findall("flakyFailure")
    assert flaky.get("message", "").startswith("AssertionError: attempt 1 fails on purpose")
    assert flaky.get("type") == "AssertionError"
    assert "attempt 1 fails on purpose" in (flaky.findtext("stackTrace") or "")
    assert "attempt 1" in (flaky.findtext("system-out") or "")
    assert cases[0].find("failure") is None
    assert root.find("testsuite").get("tests") == "21"  # type: ignore[union-attr]


def test_gate_flaky_fail_fails_the_gate_on_a_flaky_test(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    _write(pytester, "tests/integration/test_flaky.py", FLAKY)
    result = _run(pytester, "--reruns=1", "--gp-gate", "--gp-gate-flaky=fail")
    assert result.parseoutcomes() == dict(passed=21, rerun=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "gate FAILED (1 problems):",
            "  flaky (failed, then passed on attempt 2): "
            "tests/integration/test_flaky.py::test_flaky",
        ]
    )


def test_a_test_failing_every_attempt_keeps_each_in_junit_as_rerun_failures(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester)
    _write(
        pytester, "tests/integration/test_broken.py", BROKEN.format(stage="agent", segment="mid")
    )
    result = _run(pytester, "--reruns=2", "--gp-report=out", "--junitxml=junit.xml")
    assert result.parseoutcomes() == dict(passed=21, failed=1, rerun=2)
    data = _json(pytester, "out")
    assert data["flaky"] == []
    (broken,) = [t for t in data["tests"] if t["nodeid"].endswith("test_broken")]
    assert (broken["outcome"], broken["attempts"], len(broken["reruns"])) == ("failed", 3, 2)
    root = ET.parse(pytester.path / "junit.xml").getroot()  # noqa: S314 - our own file
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "test_broken"]
    assert [child.tag for child in case if child.tag != "properties"] == [
        "failure",
        "rerunFailure",
        "rerunFailure",
    ]


# -- 2. quarantine with an owner and an end ---------------------------------------------------


def test_a_quarantined_failing_test_runs_is_reported_and_not_gated(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, "gp_quarantine = quarantine.toml\n")
    _write(
        pytester, "tests/integration/test_broken.py", BROKEN.format(stage="agent", segment="mid")
    )
    _quarantine(pytester, "tests/integration/test_broken.py::test_broken")
    result = _run(pytester, "--gp-report=out", "--gp-gate", "-rx")
    result.assert_outcomes(passed=21, xfailed=1)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "1 quarantined tests failed (reported, not gated)",
            "gate passed",
            "XFAIL tests/integration/test_broken.py::test_broken - quarantined: the provider "
            "times out (owner alice@example.com, until 2999-12-31)",
        ]
    )
    data = _json(pytester, "out")
    nodeid = "tests/integration/test_broken.py::test_broken"
    (test,) = [t for t in data["tests"] if t["nodeid"] == nodeid]
    assert test["outcome"] == "failed"
    assert test["quarantine"] == nodeid
    assert test["failures"][0]["message"].startswith("AssertionError: broken on purpose")
    assert data["failed"] == []  # what the gate counts
    assert data["totals"]["failed"] == 1
    (entry,) = data["quarantine"]["entries"]
    assert entry["owner"] == "alice@example.com"
    assert (entry["tests"], entry["failed"]) == ([nodeid], [nodeid])
    assert (entry["expired"], entry["stale"], entry["ready_to_release"]) == (False, False, False)
    assert entry["line"] == 2


def test_an_own_xfail_that_reads_like_quarantine_is_not_taken_for_it(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester)
    _write(
        pytester,
        "tests/integration/test_own.py",
        """
        import pytest

        @pytest.mark.stage("agent")
        @pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r")
        @pytest.mark.xfail(reason="quarantined by hand", strict=True)
        def test_own():
            assert False
        """,
    )
    result = _run(pytester, "--gp-report=out", "--gp-gate")
    result.assert_outcomes(passed=20, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    (own,) = [t for t in _json(pytester, "out")["tests"] if t["nodeid"].endswith("test_own")]
    assert (own["outcome"], own["quarantine"]) == ("skipped", "")


def test_an_expired_entry_fails_the_gate_naming_its_owner(pytester: pytest.Pytester) -> None:
    _suite(pytester, "gp_quarantine = quarantine.toml\n")
    _write(
        pytester, "tests/integration/test_broken.py", BROKEN.format(stage="agent", segment="mid")
    )
    _quarantine(pytester, "tests/integration/test_broken.py::test_broken", expires="2020-01-31")
    result = _run(pytester, "--gp-gate")
    result.assert_outcomes(passed=21, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "gate FAILED (1 problems):",
            "  quarantine expired on 2020-01-31: tests/integration/test_broken.py::test_broken "
            "(owner alice@example.com: fix it, or extend the entry)",
        ]
    )


def test_an_entry_that_matches_no_test_fails_the_gate(pytester: pytest.Pytester) -> None:
    _suite(pytester, "gp_quarantine = quarantine.toml\n")
    _quarantine(pytester, "tests/integration/test_gone.py::test_renamed")
    result = _run(pytester, "--gp-gate")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "  quarantine entry matches no test: tests/integration/test_gone.py::test_renamed "
            "(owner alice@example.com, quarantine.toml:2; remove it)"
        ]
    )


def test_a_quarantined_test_that_passes_is_ready_to_release(pytester: pytest.Pytester) -> None:
    _suite(pytester, "gp_quarantine = quarantine.toml\n")
    _write(pytester, "tests/integration/test_mid.py", BROKEN.format(stage="agent", segment="mid"))
    _quarantine(pytester, "tests/integration/test_mid.py::test_fine")
    result = _run(pytester, "--gp-report=out", "-k", "not test_broken")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["quarantine entry ready to release: tests/integration/test_mid.py::test_fine (passed)"]
    )
    (entry,) = _json(pytester, "out")["quarantine"]["entries"]
    assert entry["ready_to_release"] is True
    assert entry["tests"] == ["tests/integration/test_mid.py::test_fine"]


def test_a_malformed_quarantine_stops_the_run_naming_file_line_and_field(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, "gp_quarantine = quarantine.toml\n")
    (pytester.path / "quarantine.toml").write_text(
        '[[quarantine]]\ntest = "tests/x.py::test_a"\nowner = "bob"\nreason = "r"\n'
        'expires = "soon"\n'
    )
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: gp_quarantine: {pytester.path / 'quarantine.toml'}:5, field 'expires': "
            "expected a date such as 2026-12-31 (unquoted), not 'soon'"
        ]
    )
    result.stdout.no_fnmatch_line("*passed*")


# -- 4. revenue at risk -----------------------------------------------------------------------

VALUES = "gp_segment_value = free=0 early=120000 mid=180000 enterprise=200000\n"


def test_the_value_behind_each_failing_cell_and_the_total_at_risk(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, VALUES)
    _write(pytester, "tests/integration/test_mid.py", BROKEN.format(stage="agent", segment="mid"))
    _write(pytester, "tests/e2e/test_mid_events.py", BROKEN.format(stage="events", segment="mid"))
    _write(pytester, "tests/e2e/test_free.py", BROKEN.format(stage="auth", segment="free"))
    result = _run(pytester, "--gp-report=out", "--gp-gate", "--gp-gate-max-risk=150000")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    risk = _json(pytester, "out")["risk"]
    assert risk["total"] == 180000  # mid once (two broken stages), free is worth 0
    assert risk["segments_at_risk"] == ["free", "mid"]
    assert [(c["segment"], c["stage"], c["value"]) for c in risk["cells"]] == [
        ("free", "auth", 0),
        ("mid", "agent", 180000),
        ("mid", "events", 180000),
    ]
    result.stdout.fnmatch_lines(
        [
            "value at risk: 180,000 (free, mid)",
            "  value at risk 180,000 exceeds the gate's maximum 150,000 (failing segments: "
            "free, mid)",
        ]
    )
    allowed = _run(pytester, "--gp-gate", "--gp-gate-max-risk=180000")
    allowed.stdout.no_fnmatch_line("*exceeds the gate's maximum*")


def test_without_segment_values_nothing_of_risk_appears(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    _write(pytester, "tests/integration/test_mid.py", BROKEN.format(stage="agent", segment="mid"))
    result = _run(pytester, "--gp-report=out")
    assert "risk" not in _json(pytester, "out")
    result.stdout.no_fnmatch_line("*value at risk*")
    assert "at risk" not in (pytester.path / "out" / "report.html").read_text()
    needs = _run(pytester, "--gp-gate-max-risk=1")
    assert needs.ret == pytest.ExitCode.USAGE_ERROR
    needs.stderr.fnmatch_lines(["ERROR: --gp-gate-max-risk needs gp_segment_value*"])


def test_an_unknown_segment_value_stops_the_run_naming_line_and_field(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, "gp_segment_value =\n    free=0 early=120000\n    mid=1 enterprize=200000\n")
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: {pytester.path / 'tox.ini'}:8: gp_segment_value, field 'enterprize=200000': "
            "no segment 'enterprize'; the segments are free, early, mid, enterprise"
        ]
    )
