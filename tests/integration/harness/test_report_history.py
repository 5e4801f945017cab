"""History across runs, and every part of the gate across merged shards.

Inner pytest runs (``pytester``, in process) keep their history with ``--gp-history``;
which test fails in which run is set by a file the suite reads, and the code revision by
``$GOLDEN_PATH_REVISION``. Shards are merged with the real ``golden-path report merge``
command in its own process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from golden_path.testing.bvj.report_history import REVISION_ENV
from tests.integration.harness.report_projects import (
    CELLS,
    INI,
    _json,
    _merge,
    _run,
    _write,
)

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="the report says whether the suite is getting better: each cell's pass "
        "rate and duration over the last runs, and whether a failure is new, old or flaky",
        revenue_impact="a team that cannot tell a new regression from an old flaky test "
        "either blocks releases on noise or ships the regression",
    ),
]

# Each test fails when outcomes.json says so: the runs below set it.
SWITCHED = """
import json
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r"),
]
FAILING = json.loads(Path(__file__).with_name("failing.json").read_text())


@pytest.mark.parametrize("name", ["flip", "broken", "regressed"])
def test_switched(name):
    assert name not in FAILING, f"{name} fails in this run"
"""
FLAKY = """
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(segment="free", goal="conversion", value_impact="v", revenue_impact="r"),
]


def test_flaky():
    counter = Path(__file__).with_name("attempts.txt")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
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
"""


def _id(name: str) -> str:
    return f"tests/integration/test_switched.py::test_switched[{name}]"


# -- 3. history -------------------------------------------------------------------------------


def test_three_runs_tell_new_still_failing_and_flaky_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI + "gp_history_runs = 3\n")
    _write(pytester, "tests/integration/test_cells.py", CELLS)
    _write(pytester, "tests/integration/test_switched.py", SWITCHED)
    failing = pytester.path / "tests" / "integration" / "failing.json"

    def run(revision: str, *failing_now: str) -> dict[str, Any]:
        monkeypatch.setenv(REVISION_ENV, revision)
        failing.write_text(json.dumps(failing_now))
        result = _run(pytester, "--gp-history=history", "--gp-report=out")
        result.assert_outcomes(passed=23 - len(failing_now), failed=len(failing_now))
        history: dict[str, Any] = _json(pytester, "out")["history"]
        return history

    first = run("rev-a", "broken")
    assert first["failing"] == {_id("broken"): "new"}
    second = run("rev-a", "broken", "flip")  # flip changed with no code change
    assert second["failing"] == {_id("broken"): "still failing", _id("flip"): "flaky"}
    third = run("rev-b", "broken", "flip", "regressed")  # regressed changed with the code
    assert third["failing"] == {
        _id("broken"): "still failing",
        _id("flip"): "flaky",
        _id("regressed"): "new",
    }
    assert (third["runs"], third["revision"]) == (3, "rev-b")
    assert third["pass_rate"] == [22 / 23, 21 / 23, 20 / 23]

    run("rev-b")  # a fourth run: only the last three are kept
    kept = sorted(p.name for p in (pytester.path / "history").iterdir())
    assert kept == ["run-000002.json", "run-000003.json", "run-000004.json"]
    last = json.loads((pytester.path / "history" / "run-000004.json").read_text())
    assert last["revision"] == "rev-b"
    assert (last["cells"]["mid × agent"]["passed"], last["cells"]["mid × agent"]["failed"]) == (
        4,
        0,
    )
    assert last["cells"]["overall"]["passed"] == 23


def test_a_history_folder_of_a_newer_format_is_refused_with_its_version(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    _write(pytester, "tests/integration/test_cells.py", CELLS)
    history = pytester.path / "history"
    history.mkdir()
    (history / "run-000001.json").write_text(json.dumps({"format": 7, "tests": {}}))
    result = _run(pytester, "--gp-history=history")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --gp-history: history/run-000001.json: a history file of format 7; "
            "this golden-path reads history format 1 and refuses to misread it*"
        ]
    )
    assert sorted(p.name for p in history.iterdir()) == ["run-000001.json"]  # left as it was

    assert _run(pytester, "--gp-report=shard").ret == pytest.ExitCode.OK
    merged = _merge(pytester, "shard", "--out", "merged", "--history", "history")
    assert merged.returncode == 2
    assert "history/run-000001.json: a history file of format 7" in merged.stderr
    assert not (pytester.path / "merged").exists()
    assert sorted(p.name for p in history.iterdir()) == ["run-000001.json"]


# -- 5. all of it across merged shards --------------------------------------------------------


def test_two_shards_merge_flaky_quarantine_risk_and_history_as_one_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REVISION_ENV, "rev-a")
    pytester.makeini(
        INI + "gp_quarantine = quarantine.toml\n"
        "gp_segment_value = free=0 early=120000 mid=180000 enterprise=200000\n"
    )
    (pytester.path / "quarantine.toml").write_text(
        '[[quarantine]]\ntest = "tests/e2e/test_quarantined.py"\nowner = "carol"\n'
        'reason = "flaky upstream"\nexpires = 2999-01-01\n'
    )
    _write(pytester, "tests/integration/test_cells.py", CELLS)
    _write(pytester, "tests/integration/test_flaky.py", FLAKY)
    _write(pytester, "tests/e2e/test_quarantined.py", BROKEN.format(stage="auth", segment="mid"))
    _write(pytester, "tests/e2e/test_early.py", BROKEN.format(stage="events", segment="early"))
    # Shard 1: the flaky test and the quarantined one; shard 2: the rest. The quarantine
    # entry matches a test of shard 1 only, so shard 2 alone would call it stale.
    first = _run(pytester, "--reruns=1", "-k", "flaky or quarantined", "--gp-report=shard1")
    second = _run(pytester, "-k", "not (flaky or quarantined)", "--gp-report=shard2", "--gp-gate")
    assert first.parseoutcomes() == {"passed": 1, "xfailed": 1, "rerun": 1, "deselected": 21}
    second.stdout.fnmatch_lines(["  quarantine entry matches no test: tests/e2e/test_quarantined*"])

    args = ("shard1", "shard2", "--out", "merged", "--gate", "--history", "history")
    merged = _merge(pytester, *args, "--gate-flaky=fail", "--gate-max-risk=100000")
    assert merged.returncode == 1, merged.stdout + merged.stderr
    lines = merged.stdout.splitlines()
    assert "gate FAILED (3 problems):" in lines
    assert "  failed: tests/e2e/test_early.py::test_broken" in lines
    assert (
        "  flaky (failed, then passed on attempt 2): tests/integration/test_flaky.py::test_flaky"
        in lines
    )
    assert (
        "  value at risk 120,000 exceeds the gate's maximum 100,000 (failing segments: early)"
        in lines
    )
    data = _json(pytester, "merged")
    assert [f["nodeid"] for f in data["flaky"]] == ["tests/integration/test_flaky.py::test_flaky"]
    (entry,) = data["quarantine"]["entries"]
    assert (entry["stale"], entry["failed"]) == (
        False,
        ["tests/e2e/test_quarantined.py::test_broken"],
    )
    assert data["risk"]["total"] == 120000  # the quarantined mid failure is not at risk
    assert data["history"]["runs"] == 1
    assert data["history"]["failing"] == {
        "tests/e2e/test_early.py::test_broken": "new",
        "tests/e2e/test_quarantined.py::test_broken": "new",
    }

    again = _merge(pytester, *args)  # the same shards merged again: a second run
    assert again.returncode == 1
    assert (
        _json(pytester, "merged")["history"]["failing"]["tests/e2e/test_early.py::test_broken"]
        == "still failing"
    )
    assert sorted(p.name for p in (pytester.path / "history").iterdir()) == [
        "run-000001.json",
        "run-000002.json",
    ]


def test_the_pytest_split_recipe_merges_to_the_single_runs_gate_parts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REVISION_ENV, "rev-a")
    pytester.makeini(
        INI + "gp_quarantine = quarantine.toml\n"
        "gp_segment_value = free=0 early=120000 mid=180000 enterprise=200000\n"
    )
    (pytester.path / "quarantine.toml").write_text(
        '[[quarantine]]\ntest = "tests/e2e/test_quarantined.py"\nowner = "carol"\n'
        'reason = "flaky upstream"\nexpires = 2999-01-01\n'
    )
    _write(pytester, "tests/integration/test_cells.py", CELLS)
    # Passes on every second attempt, so it is flaky in each run however many ran before.
    _write(
        pytester,
        "tests/integration/test_flaky.py",
        FLAKY.replace("attempt > 1", "attempt % 2 == 0"),
    )
    _write(pytester, "tests/e2e/test_quarantined.py", BROKEN.format(stage="auth", segment="mid"))
    _write(pytester, "tests/e2e/test_early.py", BROKEN.format(stage="events", segment="early"))

    whole = pytester.runpytest_subprocess(
        "-p", "pytest_split", "--store-durations", "--reruns=1", "--gp-report=whole"
    )
    assert whole.parseoutcomes() == {"passed": 21, "failed": 1, "xfailed": 1, "rerun": 2}
    for group in (1, 2):
        pytester.runpytest_subprocess(
            "-p",
            "pytest_split",
            "--splits",
            "2",
            "--group",
            str(group),
            "--splitting-algorithm",
            "least_duration",
            f"--randomly-seed={group}",
            "--reruns=1",
            f"--gp-report=shard{group}",
        )
    merged = _merge(pytester, "shard1", "shard2", "--out", "merged", "--history", "history")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    single, union = _json(pytester, "whole"), _json(pytester, "merged")
    for key in ("risk", "failed", "totals"):
        assert union[key] == single[key], key
    # The same test, flaky on its second attempt (its message counts attempts across runs).
    assert (
        [(f["nodeid"], f["attempts"]) for f in union["flaky"]]
        == [(f["nodeid"], f["attempts"]) for f in single["flaky"]]
        == [("tests/integration/test_flaky.py::test_flaky", 2)]
    )
    assert union["quarantine"]["entries"] == single["quarantine"]["entries"]
    assert union["history"]["runs"] == 1
