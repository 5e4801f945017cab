"""The report people open, JUnit properties, ``--gp-report DIR`` and one gate across shards.

Inner pytest runs (``pytester``) write small suites with BVJ markers, run them whole or
split with pytest-split into two shards, and merge the shards' reports with the real
``golden-path report merge`` command in its own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from golden_path.services.external import POSTGRES_ENV, REDIS_ENV
from golden_path.services.model import Services, dsn_with_database
from golden_path.services.selection import SERVICES_ENV
from golden_path.testing.markers import STAGES

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a suite split over CI jobs is gated as one suite, CI pages show each "
        "test's business reason, and a mistyped option says how to fix it instead of "
        "failing hundreds of tests",
        revenue_impact="the gate stops a release whose path for a paying segment is "
        "untested; a gate that each shard passes alone would let that release through",
    ),
]

SEGMENTS = ("free", "early", "mid", "enterprise")
GOLDEN_PATH = str(Path(sys.executable).with_name("golden-path"))

# Each module fills a few cells; the two together fill every cell, each cell by two tests
# in different modules (so a shard that holds one of them still covers that cell).
CELLS = """
import pytest

pytestmark = pytest.mark.bvj(
    segment="all", goal="stability", value_impact="{value}", revenue_impact="every plan"
)

STAGES = ("auth", "websocket", "agent", "events", "persistence")


@pytest.mark.parametrize("tier", ["free", "early", "mid", "enterprise"])
@pytest.mark.parametrize("stage", [pytest.param(s, marks=pytest.mark.stage(s)) for s in STAGES])
def test_cell(tier, stage):
    assert tier and stage
"""
UNITS = """
import pytest

pytestmark = pytest.mark.bvj(
    segment="mid", goal="expansion", value_impact="mid plan maths", revenue_impact="upsell"
)


@pytest.mark.parametrize("n", range(6))
def test_unit(n):
    assert n >= 0
"""


@pytest.fixture(autouse=True)
def inner_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "gp_segments = free early mid enterprise\n"
        "asyncio_default_test_loop_scope = function\n"
    )


def _write(pytester: pytest.Pytester, relative: str, source: str) -> Path:
    path = pytester.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _suite(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/integration/test_first.py", CELLS.format(value="first module"))
    _write(pytester, "tests/e2e/test_second.py", CELLS.format(value="second module"))
    _write(pytester, "tests/unit/test_units.py", UNITS)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:randomly", *args)


def _merge(pytester: pytest.Pytester, *args: str) -> subprocess.CompletedProcess[str]:
    """``golden-path report merge ARGS``: the installed command, in its own process."""
    return subprocess.run(
        [GOLDEN_PATH, "report", "merge", *args],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _json(pytester: pytest.Pytester, folder: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / folder / "report.json").read_text())
    return data


def _shard(pytester: pytest.Pytester, group: int) -> pytest.RunResult:
    """One CI job of the recipe in docs/testing.md: its own random order, its own report."""
    return pytester.runpytest_subprocess(
        "-p",
        "pytest_split",
        "--splits",
        "2",
        "--group",
        str(group),
        "--splitting-algorithm",
        "least_duration",
        f"--randomly-seed={group}",  # each job shuffles its own way; the split must not care
        f"--gp-report=shard{group}",
    )


# -- one gate across machines -----------------------------------------------------------------


def test_two_shards_merged_equal_the_single_run(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    whole = _run(pytester, "-p", "pytest_split", "--store-durations", "--gp-report=whole")
    assert whole.ret == pytest.ExitCode.OK
    whole.assert_outcomes(passed=46)
    assert (pytester.path / ".test_durations").is_file()

    shards = [_shard(pytester, 1), _shard(pytester, 2)]
    counts = [s.parseoutcomes()["passed"] for s in shards]
    assert sum(counts) == 46
    assert all(0 < n < 46 for n in counts), counts  # a real split, not one shard doing it all
    ran = [{t["nodeid"] for t in _json(pytester, f"shard{g}")["tests"]} for g in (1, 2)]
    assert not ran[0] & ran[1]

    merged = _merge(pytester, "shard1", "shard2", "--out", "merged", "--gate")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "gate passed" in merged.stdout
    single, union = _json(pytester, "whole"), _json(pytester, "merged")
    assert union["matrix"] == single["matrix"]
    assert union["matrix"] == {segment: dict.fromkeys(STAGES, 2) for segment in SEGMENTS}
    for key in ("totals", "empty_cells", "failed", "without_bvj", "by_test_tier"):
        assert union[key] == single[key], key
    assert [t["nodeid"] for t in union["tests"]] == [t["nodeid"] for t in single["tests"]]
    assert (pytester.path / "merged" / "report.html").is_file()
    assert (pytester.path / "merged" / "report.md").is_file()


def test_a_cell_covered_only_in_the_other_shard_is_covered(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/integration/test_first.py", CELLS.format(value="first module"))
    # Each shard runs half the cells (by -k): alone, each leaves cells empty.
    first = _run(pytester, "-k", "free or early", "--gp-report=a", "--gp-gate")
    second = _run(pytester, "-k", "not (free or early)", "--gp-report=b", "--gp-gate")
    assert first.ret == second.ret == pytest.ExitCode.TESTS_FAILED  # each gate fails alone
    assert _json(pytester, "a")["empty_cells"]
    assert _json(pytester, "b")["empty_cells"]
    merged = _merge(pytester, "a", "b", "--out", "merged", "--gate")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert _json(pytester, "merged")["empty_cells"] == []


def test_a_test_run_by_two_shards_is_an_error(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    _run(pytester, "-k", "free or test_unit", "--gp-report=a")
    _run(pytester, "-k", "free and first", "--gp-report=b")  # overlaps a by 5 tests
    merged = _merge(pytester, "a", "b", "--out", "merged")
    assert merged.returncode == 2
    assert "5 tests ran in more than one shard" in merged.stderr
    assert "tests/integration/test_first.py::test_cell[auth-free] (in a and b)" in merged.stderr
    assert not (pytester.path / "merged").exists()


def test_the_gate_fails_the_union_on_an_empty_cell_or_a_failed_test(
    pytester: pytest.Pytester,
) -> None:
    _write(pytester, "tests/integration/test_first.py", CELLS.format(value="first module"))
    _write(
        pytester,
        "tests/unit/test_broken.py",
        """
        import pytest

        @pytest.mark.bvj(segment="mid", goal="retention", value_impact="v", revenue_impact="r")
        def test_broken():
            assert 1 + 1 == 3
        """,
    )
    _run(pytester, "-k", "not enterprise or broken", "--gp-report=a")
    _run(pytester, "-k", "enterprise and not persistence", "--gp-report=b")
    merged = _merge(pytester, "a", "b", "--out", "merged", "--gate")
    assert merged.returncode == 1, merged.stdout + merged.stderr
    lines = merged.stdout.splitlines()
    assert "gate FAILED (2 problems):" in lines
    assert "  failed: tests/unit/test_broken.py::test_broken" in lines
    assert "  no passing integration/e2e test for enterprise × persistence" in lines
    # Without --gate the merge writes the report and succeeds.
    assert _merge(pytester, "a", "b", "--out", "merged").returncode == 0


def test_merge_names_a_folder_without_a_report(pytester: pytest.Pytester) -> None:
    _write(pytester, "tests/integration/test_first.py", CELLS.format(value="first module"))
    _run(pytester, "--gp-report=a")
    merged = _merge(pytester, "a", "nowhere", "--out", "merged")
    assert merged.returncode == 2
    assert "nowhere/report.json: no such file (was that job run with --gp-report=nowhere?)" in (
        merged.stderr
    )


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_xml_carries_each_tests_bvj_tier_and_stages(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        "tests/e2e/test_path.py",
        """
        import pytest

        pytestmark = pytest.mark.bvj(
            segment="enterprise", goal="retention",
            value_impact="history survives a reconnect", revenue_impact="renewals",
        )

        @pytest.mark.stage("events")
        @pytest.mark.stage("persistence")
        @pytest.mark.tier("enterprise")
        def test_history(record_property):
            record_property("own", "kept")

        def test_undeclared_stage():
            assert False
        """,
    )
    result = _run(pytester, "--junitxml=junit.xml", "--gp-bvj=warn")
    result.assert_outcomes(passed=1, failed=1)
    root = ET.parse(pytester.path / "junit.xml").getroot()  # noqa: S314 - our own file
    cases = {case.get("name"): case for case in root.iter("testcase")}

    def props(name: str) -> list[tuple[str | None, str | None]]:
        return [(p.get("name"), p.get("value")) for p in cases[name].iter("property")]

    assert props("test_history") == [
        ("gp.test_tier", "e2e"),
        ("bvj.segment", "enterprise"),
        ("bvj.goal", "retention"),
        ("bvj.value_impact", "history survives a reconnect"),
        ("bvj.revenue_impact", "renewals"),
        ("gp.stage", "persistence"),  # the order pytest lists the markers in
        ("gp.stage", "events"),
        ("gp.customer_tier", "enterprise"),
        ("own", "kept"),
    ]
    failed = dict(props("test_undeclared_stage"))
    assert failed["bvj.segment"] == "enterprise"
    assert "gp.stage" not in failed


# -- --gp-report DIR --------------------------------------------------------------------------


def test_gp_report_with_a_space_stops_with_the_fix(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The inner project's ini is what the space form made pytest skip: it names a marker
    # that only --strict-markers plus this ini make legal.
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers\nmarkers =\n    ours: ours\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    _write(
        pytester,
        "tests/unit/test_marked.py",
        """
        import pytest

        @pytest.mark.ours
        @pytest.mark.bvj(segment="free", goal="conversion", value_impact="v", revenue_impact="r")
        def test_marked():
            pass
        """,
    )
    outside = tmp_path_factory.mktemp("reports-outside")
    spaced = pytester.runpytest_subprocess("-p", "no:randomly", "--gp-report", str(outside))
    assert spaced.ret == pytest.ExitCode.USAGE_ERROR, spaced.stdout.str()
    spaced.stderr.fnmatch_lines([f"ERROR: write --gp-report={outside}, with '=': written as *"])
    assert "skip the project's pytest.ini" in spaced.stderr.str()
    assert not (outside / "report.json").exists()

    written = pytester.runpytest_subprocess("-p", "no:randomly", f"--gp-report={outside}")
    assert written.ret == pytest.ExitCode.OK, written.stdout.str()
    written.assert_outcomes(passed=1)
    assert json.loads((outside / "report.json").read_text())["totals"]["passed"] == 1


# -- the page, from a real failing socket test ------------------------------------------------

SOCKET_TEST = """
import pytest

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="free", goal="conversion",
        value_impact="a free user's socket answers a ping", revenue_impact="first session",
    ),
]


async def test_ping_then_fail(gp_user, gp_client):
    user = await gp_user("free")
    sock = await gp_client(user)
    await sock.ping()
    raise AssertionError("failing on purpose after a real ping")
"""


def test_the_page_shows_a_failed_socket_tests_message_and_transcript(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    gp_services: Services,
    redis_admin_url: str,
) -> None:
    # The inner run starts its own reference server on the outer run's PostgreSQL and Redis.
    monkeypatch.setenv(POSTGRES_ENV, dsn_with_database(gp_services.postgres_dsn, "postgres"))
    monkeypatch.setenv(REDIS_ENV, redis_admin_url)
    monkeypatch.delenv(SERVICES_ENV, raising=False)
    _write(pytester, "tests/e2e/test_socket.py", SOCKET_TEST)
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--gp-services=external", "--gp-report=out"
    )
    result.assert_outcomes(failed=1)
    (test,) = _json(pytester, "out")["tests"]
    (failure,) = test["failures"]
    assert failure["message"] == "AssertionError: failing on purpose after a real ping"
    sections = {s["title"]: s["text"] for s in failure["sections"]}
    transcript = sections["golden-path socket 0 transcript"]
    assert '>> {"type": "ping"' in transcript
    assert '<< {"type": "pong"' in transcript

    page = (pytester.path / "out" / "report.html").read_text()
    assert "at call: AssertionError: failing on purpose after a real ping" in page
    assert "golden-path socket 0 transcript" in page
    assert "&gt;&gt; {&quot;type&quot;: &quot;ping&quot;" in page
    assert "a free user&#x27;s socket answers a ping" in page
    assert '<td class="fail"><a href="#cell-free-websocket"' in page
